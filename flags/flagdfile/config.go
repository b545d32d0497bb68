package flagdfile

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// valueKind is the JSON type every variant of one flag shares.
type valueKind string

const (
	kindBool   valueKind = "boolean"
	kindString valueKind = "string"
	kindNumber valueKind = "number"
	kindObject valueKind = "object"
)

// flagDef is one flag of a loaded file, validated and with every $ref
// resolved. It is immutable once built, so evaluations share it freely.
type flagDef struct {
	key            string
	enabled        bool
	variants       map[string]any
	kind           valueKind
	defaultVariant string
	// targeting is the JsonLogic rule, nil when the flag has none.
	targeting any
	// targetingJSON is targeting encoded once at load, for the engine,
	// which takes JSON.
	targetingJSON json.RawMessage
	// custom reports whether the rule uses a flagd operation, which must be
	// resolved before the JsonLogic engine runs.
	custom   bool
	metadata map[string]any
}

// flagFile is one whole, valid flag file. A reload swaps it atomically.
type flagFile struct {
	flags  map[string]*flagDef
	digest [sha256.Size]byte
}

// isJSONLogicOp reports whether op is an operation of
// github.com/diegoholiveira/jsonlogic/v3.
func isJSONLogicOp(op string) bool {
	switch op {
	case "==", "===", "!=", "!==", ">", ">=", "<", "<=", "!", "!!", "or", "and", "?:", "if",
		"in", "in_sorted", "cat", "substr", "%", "abs", "max", "min", "+", "-", "*", "/",
		"merge", "missing", "missing_some", "set", "var":
		return true
	}
	return isScopedOp(op)
}

// isScopedOp reports whether op rebinds "var" to each array element; a flagd
// operation inside one would be resolved against the wrong data, so it is
// refused.
func isScopedOp(op string) bool {
	switch op {
	case "some", "filter", "map", "reduce", "all", "none":
		return true
	}
	return false
}

// isFlagdOp reports whether op is one of flagd's custom operations, which
// this package evaluates itself.
func isFlagdOp(op string) bool {
	switch op {
	case opFractional, opStartsWith, opEndsWith, opSemVer:
		return true
	}
	return false
}

// parseConfig reads a flagd flag-definition file. It either returns a
// complete configuration or an error naming the first problem: nothing is
// ever half-applied.
func parseConfig(data []byte) (*flagFile, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("the file is empty; it must be a JSON object with a \"flags\" object")
	}
	var top map[string]json.RawMessage
	if err := strictUnmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("malformed JSON: %w", err)
	}
	for _, k := range sortedKeys(top) {
		switch k {
		case "flags", "$evaluators", "$schema", "metadata":
		default:
			return nil, fmt.Errorf("unknown top-level key %q (allowed: flags, $evaluators, $schema, metadata)", k)
		}
	}
	rawFlags, ok := top["flags"]
	if !ok {
		return nil, errors.New(`missing "flags": the file must be a JSON object with a "flags" object`)
	}
	var flagMap map[string]json.RawMessage
	if err := json.Unmarshal(rawFlags, &flagMap); err != nil || flagMap == nil {
		return nil, errors.New(`"flags" must be an object mapping flag keys to flag definitions`)
	}
	evaluators, err := parseEvaluators(top["$evaluators"])
	if err != nil {
		return nil, err
	}
	cfg := &flagFile{flags: make(map[string]*flagDef, len(flagMap)), digest: sha256.Sum256(data)}
	for _, key := range sortedKeys(flagMap) {
		f, err := parseFlag(key, flagMap[key], evaluators)
		if err != nil {
			return nil, fmt.Errorf("flag %q: %w", key, err)
		}
		cfg.flags[key] = f
	}
	return cfg, nil
}

func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return describeJSONError(data, err)
	}
	if dec.More() {
		return errors.New("trailing data after the top-level object")
	}
	return nil
}

// describeJSONError adds the line and column of a syntax error.
func describeJSONError(data []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := 1, 1
		for _, b := range data[:min(int(se.Offset), len(data))] {
			if b == '\n' {
				line++
				col = 1
			} else {
				col++
			}
		}
		return fmt.Errorf("line %d, column %d: %s", line, col, se.Error())
	}
	return err
}

func parseEvaluators(raw json.RawMessage) (map[string]any, error) {
	if raw == nil {
		return nil, nil
	}
	var defs map[string]any
	if err := json.Unmarshal(raw, &defs); err != nil || defs == nil {
		return nil, errors.New(`"$evaluators" must be an object mapping names to JsonLogic rules`)
	}
	resolved := make(map[string]any, len(defs))
	for _, name := range sortedKeys(defs) {
		v, err := resolveRefs(defs[name], defs, []string{name})
		if err != nil {
			return nil, fmt.Errorf("$evaluators.%s: %w", name, err)
		}
		resolved[name] = v
	}
	return resolved, nil
}

// resolveRefs replaces every {"$ref": "name"} with the named evaluator.
// flagd substitutes the text; doing it on the tree catches a reference to
// nothing, and a cycle, at load time instead of at evaluation.
func resolveRefs(node any, defs map[string]any, stack []string) (any, error) {
	switch n := node.(type) {
	case map[string]any:
		if ref, ok := n["$ref"]; ok && len(n) == 1 {
			name, ok := ref.(string)
			if !ok {
				return nil, fmt.Errorf("$ref must name an evaluator (got %s)", short(ref))
			}
			def, ok := defs[name]
			if !ok {
				return nil, fmt.Errorf("$ref to %q, which $evaluators does not define (defined: %s)", name, listOrNone(sortedKeys(defs)))
			}
			if slices.Contains(stack, name) {
				return nil, fmt.Errorf("$ref cycle: %s -> %s", strings.Join(stack, " -> "), name)
			}
			return resolveRefs(def, defs, append(stack, name))
		}
		out := make(map[string]any, len(n))
		for _, k := range sortedKeys(n) { // sorted: the first error named is stable
			v := n[k]
			r, err := resolveRefs(v, defs, stack)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(n))
		for i, v := range n {
			r, err := resolveRefs(v, defs, stack)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return node, nil
}

type rawFlag struct {
	State          *string         `json:"state"`
	Variants       map[string]any  `json:"variants"`
	DefaultVariant *string         `json:"defaultVariant"`
	Targeting      json.RawMessage `json:"targeting"`
	Metadata       map[string]any  `json:"metadata"`
}

func parseFlag(key string, raw json.RawMessage, evaluators map[string]any) (*flagDef, error) {
	if key == "" {
		return nil, errors.New("flag keys must not be empty")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return nil, errors.New("must be an object with state, variants and defaultVariant")
	}
	for _, k := range sortedKeys(fields) {
		switch k {
		case "state", "variants", "defaultVariant", "targeting", "metadata":
		default:
			// encoding/json matches names case-insensitively; flagd does
			// not, so a miscased key is refused here, not ignored there.
			return nil, fmt.Errorf("unknown field %q (allowed: state, variants, defaultVariant, targeting, metadata)", k)
		}
	}
	var rf rawFlag
	if err := json.Unmarshal(raw, &rf); err != nil {
		return nil, fmt.Errorf("must be an object with state, variants and defaultVariant: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	f := &flagDef{key: key, variants: rf.Variants, metadata: rf.Metadata}
	switch {
	case rf.State == nil:
		return nil, errors.New(`missing "state" (ENABLED or DISABLED)`)
	case *rf.State == "ENABLED":
		f.enabled = true
	case *rf.State == "DISABLED":
	default:
		return nil, fmt.Errorf(`state must be "ENABLED" or "DISABLED" (got %q)`, *rf.State)
	}
	if len(rf.Variants) == 0 {
		return nil, errors.New(`"variants" must be a non-empty object mapping variant names to values`)
	}
	names := sortedKeys(rf.Variants)
	for _, name := range names {
		if name == "" {
			// "" is how a rule or defaultVariant says "no variant" (the
			// caller's default); a variant by that name would be ambiguous.
			return nil, errors.New(`variant names must be non-empty ("" means no variant)`)
		}
		k, err := kindOf(rf.Variants[name])
		if err != nil {
			return nil, fmt.Errorf("variant %q: %w", name, err)
		}
		if f.kind == "" {
			f.kind = k
		} else if k != f.kind {
			return nil, fmt.Errorf("variant type mismatch: variant %q is a %s but the others are %s values; every variant of a flag must have the same type", name, k, f.kind)
		}
	}
	if rf.DefaultVariant != nil {
		f.defaultVariant = *rf.DefaultVariant
		if _, ok := rf.Variants[f.defaultVariant]; !ok && f.defaultVariant != "" {
			return nil, fmt.Errorf("defaultVariant %q is not one of the variants (%s)", f.defaultVariant, strings.Join(names, ", "))
		}
	}
	if t := bytes.TrimSpace(rf.Targeting); len(t) > 0 && !bytes.Equal(t, []byte("null")) {
		var rule any
		if err := json.Unmarshal(t, &rule); err != nil {
			return nil, fmt.Errorf("targeting: %w", err)
		}
		if m, ok := rule.(map[string]any); ok && len(m) == 0 {
			rule = nil // flagd reads {} as "no targeting"
		}
		if rule != nil {
			rule, err := resolveRefs(rule, evaluators, nil)
			if err != nil {
				return nil, fmt.Errorf("targeting: %w", err)
			}
			v := validator{variants: rf.Variants}
			if err := v.check(rule, "targeting", false); err != nil {
				return nil, err
			}
			enc, err := json.Marshal(rule)
			if err != nil {
				return nil, fmt.Errorf("targeting: %w", err)
			}
			f.targeting, f.targetingJSON, f.custom = rule, enc, v.custom
		}
	}
	return f, nil
}

func kindOf(v any) (valueKind, error) {
	switch v.(type) {
	case bool:
		return kindBool, nil
	case string:
		return kindString, nil
	case float64:
		return kindNumber, nil
	case map[string]any:
		return kindObject, nil
	case nil:
		return "", errors.New("value must not be null")
	}
	return "", errors.New("value must be a boolean, string, number or object")
}

// validator walks a targeting rule once at load time so that a rule the
// engine cannot run is a load error, not a failure on some later call.
type validator struct {
	variants map[string]any
	custom   bool
}

func (v *validator) check(node any, path string, scoped bool) error {
	switch n := node.(type) {
	case []any:
		for i, e := range n {
			if err := v.check(e, fmt.Sprintf("%s[%d]", path, i), scoped); err != nil {
				return err
			}
		}
		return nil
	case map[string]any:
		if len(n) != 1 {
			return fmt.Errorf("%s: an object must hold exactly one operation such as {\"if\": [...]} (got keys %s)", path, strings.Join(sortedKeys(n), ", "))
		}
		for op, args := range n {
			sub := path + "." + op
			switch {
			case isFlagdOp(op):
				if scoped {
					return fmt.Errorf("%s: %s cannot be used inside some/all/none/filter/map/reduce", sub, op)
				}
				v.custom = true
				if err := v.checkCustom(op, args, sub); err != nil {
					return err
				}
			case op == "var":
				return nil
			case isJSONLogicOp(op):
				if op == "if" || op == "?:" {
					if err := v.checkBranches(args, sub); err != nil {
						return err
					}
				}
				scoped = scoped || isScopedOp(op)
			case op == "$ref":
				return fmt.Errorf("%s: malformed $ref (it must be the only key, naming an evaluator)", path)
			default:
				return fmt.Errorf("%s: unknown operator %q (JsonLogic operations and flagd's fractional, starts_with, ends_with, sem_ver are supported)", path, op)
			}
			return v.check(args, sub, scoped)
		}
	}
	return nil
}

// checkBranches checks that the literal results of an if are variants.
func (v *validator) checkBranches(args any, path string) error {
	list, ok := args.([]any)
	if !ok {
		return nil
	}
	for i, a := range list {
		isResult := i%2 == 1 || i == len(list)-1
		if s, ok := a.(string); ok && isResult && !v.isVariant(s) {
			return fmt.Errorf("%s[%d]: %q is not a variant of this flag (variants: %s)", path, i, s, strings.Join(sortedKeys(v.variants), ", "))
		}
	}
	return nil
}

func (v *validator) isVariant(s string) bool { _, ok := v.variants[s]; return ok }

func (v *validator) checkCustom(op string, args any, path string) error {
	list, ok := args.([]any)
	if !ok {
		return fmt.Errorf("%s: arguments must be an array", path)
	}
	switch op {
	case opStartsWith, opEndsWith:
		if len(list) != 2 {
			return fmt.Errorf("%s: needs exactly 2 arguments, a value and a prefix or suffix (got %d)", path, len(list))
		}
	case opSemVer:
		if len(list) != 3 {
			return fmt.Errorf("%s: needs exactly 3 arguments, a version, an operator and a version (got %d)", path, len(list))
		}
		if s, ok := list[1].(string); ok && !validSemVerOp(s) {
			return fmt.Errorf("%s[1]: unknown comparison %q (use =, !=, <, <=, >, >=, ^ or ~)", path, s)
		}
		for _, i := range []int{0, 2} {
			if s, ok := list[i].(string); ok {
				if _, err := parseSemVer(s); err != nil {
					return fmt.Errorf("%s[%d]: %w", path, i, err)
				}
			}
		}
	case opFractional:
		return v.checkFractional(list, path)
	}
	return nil
}

func (v *validator) checkFractional(list []any, path string) error {
	buckets := list
	if len(list) > 0 {
		if _, isBucket := list[0].([]any); !isBucket {
			buckets = list[1:] // the bucketing value
		}
	}
	if len(buckets) == 0 {
		return fmt.Errorf("%s: needs at least one bucket such as [\"on\", 25]", path)
	}
	var total int64
	for i, b := range buckets {
		bp := fmt.Sprintf("%s[%d]", path, i+len(list)-len(buckets))
		arr, ok := b.([]any)
		if !ok || len(arr) == 0 || len(arr) > 2 {
			return fmt.Errorf("%s: a bucket must be [variant] or [variant, weight]", bp)
		}
		if s, ok := arr[0].(string); ok && !v.isVariant(s) {
			return fmt.Errorf("%s: %q is not a variant of this flag (variants: %s)", bp, s, strings.Join(sortedKeys(v.variants), ", "))
		}
		w := int64(1)
		if len(arr) == 2 {
			switch x := arr[1].(type) {
			case float64:
				if x < 0 || x != math.Trunc(x) || x > math.MaxInt32 {
					return fmt.Errorf("%s: weight must be a whole number from 0 to %d (got %v)", bp, math.MaxInt32, x)
				}
				w = int64(x)
			case map[string]any:
				continue // computed weight, checked when evaluated
			default:
				return fmt.Errorf("%s: weight must be a number (got %s)", bp, short(arr[1]))
			}
		}
		total += w
	}
	if total > math.MaxInt32 {
		return fmt.Errorf("%s: weights add up to %d, more than %d", path, total, math.MaxInt32)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// short renders a value for an error message, bounded in length.
func short(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%T", v)
	}
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}
