package mcpkit

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"
	invopop "github.com/invopop/jsonschema"
)

// compiledSchema is a JSON Schema generated from a Go type once, at
// registration, in the three forms the server needs: the bytes sent in
// tools/list, the tree the error explainer walks, and the resolved form the
// validator runs.
type compiledSchema struct {
	raw         json.RawMessage
	tree        *jsonschema.Schema
	resolved    *jsonschema.Resolved
	hasDefaults bool
}

// reflectSchema generates the schema for t with invopop/jsonschema, honouring
// its tags (description, enum, minimum, maximum, pattern, default, examples,
// required via omitempty). The result is inlined (no top-level $ref) because
// MCP clients and the go-sdk expect a top-level "type":"object".
// Each edit may change the generated schema (or refuse it) before it is
// encoded.
func reflectSchema(t reflect.Type, edits ...func(*invopop.Schema) error) (*compiledSchema, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct && !(t.Kind() == reflect.Map && t.Key().Kind() == reflect.String) {
		return nil, fmt.Errorf("type %v must be a struct (or a map with string keys) so that its schema is an object", t)
	}
	if err := checkRecursion(t, nil); err != nil {
		return nil, err
	}
	r := invopop.Reflector{DoNotReference: true, Anonymous: true}
	s := r.ReflectFromType(t)
	s.Version = "" // the SDK and clients assume 2020-12; the keyword only adds bytes
	for _, edit := range edits {
		if err := edit(s); err != nil {
			return nil, err
		}
	}
	raw, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("marshal schema for %v: %w", t, err)
	}
	return compileSchema(raw)
}

// compileSchema parses and resolves raw schema bytes.
func compileSchema(raw json.RawMessage) (*compiledSchema, error) {
	var tree jsonschema.Schema
	if err := json.Unmarshal(raw, &tree); err != nil {
		return nil, fmt.Errorf("parse schema: %w", err)
	}
	if tree.Type != "object" {
		return nil, fmt.Errorf(`schema must have top-level "type":"object", got %q`, tree.Type)
	}
	resolved, err := tree.Resolve(&jsonschema.ResolveOptions{ValidateDefaults: true})
	if err != nil {
		return nil, fmt.Errorf("resolve schema: %w", err)
	}
	return &compiledSchema{raw: raw, tree: &tree, resolved: resolved, hasDefaults: hasDefault(&tree)}, nil
}

// hasDefault reports whether any property below s declares a default; only
// then does a call pay for applying defaults.
func hasDefault(s *jsonschema.Schema) bool {
	if s == nil {
		return false
	}
	for _, p := range s.Properties {
		if p.Default != nil || hasDefault(p) {
			return true
		}
	}
	return hasDefault(s.Items)
}

// checkRecursion rejects self-referential types: with references inlined
// their schema would be infinite.
func checkRecursion(t reflect.Type, seen []reflect.Type) error {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	if slices.Contains(seen, t) {
		return fmt.Errorf("type %v is recursive; tool inputs and outputs must be finite trees", t)
	}
	seen = append(seen, t)
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || f.Tag.Get("json") == "-" {
			continue
		}
		if err := checkRecursion(f.Type, seen); err != nil {
			return err
		}
	}
	return nil
}

// undocumented returns the paths of properties without a description.
func undocumented(s *jsonschema.Schema) []string {
	var out []string
	var walk func(s *jsonschema.Schema, path string)
	walk = func(s *jsonschema.Schema, path string) {
		if s == nil {
			return
		}
		for _, name := range sortedKeys(s.Properties) {
			p := s.Properties[name]
			fp := path + "." + name
			if strings.TrimSpace(p.Description) == "" {
				out = append(out, fp)
			}
			walk(p, fp)
		}
		walk(s.Items, path+"[]")
		walk(s.AdditionalProperties, path+".*")
	}
	walk(s, "arguments")
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// taggedRedactions returns the dotted JSON paths of fields tagged
// `mcpkit:"redact"` in t, so that a secret declared on the type is masked in
// every audit record without repeating it in the policy.
func taggedRedactions(t reflect.Type) []string {
	var out []string
	var walk func(t reflect.Type, prefix string, depth int)
	walk = func(t reflect.Type, prefix string, depth int) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || depth > 16 {
			return
		}
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if f.Anonymous && name == "" {
				walk(f.Type, prefix, depth+1)
				continue
			}
			if name == "" {
				name = f.Name
			}
			path := prefix + name
			if slices.Contains(strings.Split(f.Tag.Get("mcpkit"), ","), "redact") {
				out = append(out, path)
				continue
			}
			walk(f.Type, path+".", depth+1)
		}
	}
	walk(t, "", 0)
	return out
}
