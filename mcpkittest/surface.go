package mcpkittest

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// wireTools lists the tools as a client holding every scope sees them.
func (e *env) wireTools(t testing.TB) []*mcp.Tool {
	t.Helper()
	srv := e.server(t)
	return NewHarness(t, srv, WithIdentity(superuser(srv.Tools()))).List()
}

func checkNames(t testing.TB, e *env) {
	verbs := append(mcpkit.DefaultVerbs(), e.opts.ExtraVerbs...)
	seen := map[string]bool{}
	for _, tool := range e.wireTools(t) {
		if seen[tool.Name] {
			t.Errorf("tool %s is listed twice", tool.Name)
		}
		seen[tool.Name] = true
		if !snakeCase.MatchString(tool.Name) || len(tool.Name) > 64 {
			t.Errorf("tool %q: name must be lower snake_case, at most 64 characters", tool.Name)
			continue
		}
		verb, _, _ := strings.Cut(tool.Name, "_")
		if !slices.Contains(verbs, verb) {
			t.Errorf("tool %q: name must start with a verb; %q is not one (Config.ExtraVerbs adds verbs)", tool.Name, verb)
		}
	}
}

func checkDescriptions(t testing.TB, e *env) {
	for _, tool := range e.wireTools(t) {
		d := strings.TrimSpace(tool.Description)
		switch {
		case d == "":
			t.Errorf("tool %s has no description: the model cannot know when to call it", tool.Name)
		case len(d) > e.opts.MaxDescription:
			t.Errorf("tool %s: description is %d bytes, more than %d", tool.Name, len(d), e.opts.MaxDescription)
		case strings.Contains(d, "\n\n"):
			t.Errorf("tool %s: description must be one paragraph", tool.Name)
		}
	}
}

// schemaOf turns a wire schema (a map on the client side) into a
// jsonschema-go schema.
func schemaOf(v any) (*jsonschema.Schema, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var s jsonschema.Schema
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

func checkInputSchemas(t testing.TB, e *env) {
	for _, tool := range e.wireTools(t) {
		s, err := schemaOf(tool.InputSchema)
		if err != nil {
			t.Errorf("tool %s: input schema is not a JSON Schema: %v", tool.Name, err)
			continue
		}
		if _, err := s.Resolve(&jsonschema.ResolveOptions{ValidateDefaults: true}); err != nil {
			t.Errorf("tool %s: input schema does not compile under JSON Schema 2020-12: %v", tool.Name, err)
		}
		if s.Type != "object" {
			t.Errorf(`tool %s: input schema must have "type":"object", has %q`, tool.Name, s.Type)
		}
		for _, p := range undescribed(s, "arguments") {
			t.Errorf("tool %s: property %s has no description", tool.Name, p)
		}
	}
}

// undescribed returns the paths of properties without a description.
func undescribed(s *jsonschema.Schema, path string) []string {
	if s == nil {
		return nil
	}
	var out []string
	names := make([]string, 0, len(s.Properties))
	for n := range s.Properties {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		p := s.Properties[n]
		if strings.TrimSpace(p.Description) == "" {
			out = append(out, path+"."+n)
		}
		out = append(out, undescribed(p, path+"."+n)...)
	}
	return append(out, undescribed(s.Items, path+"[]")...)
}

func checkOutputSchemas(t testing.TB, e *env) {
	srv := e.server(t)
	for _, tool := range e.wireTools(t) {
		if _, mine := srv.Tool(tool.Name); !mine {
			continue // structured output of a raw SDK tool cannot be known
		}
		if tool.OutputSchema == nil {
			t.Errorf("tool %s returns structured content but declares no output schema", tool.Name)
			continue
		}
		s, err := schemaOf(tool.OutputSchema)
		if err == nil {
			_, err = s.Resolve(nil)
		}
		if err != nil {
			t.Errorf("tool %s: output schema does not compile: %v", tool.Name, err)
		}
	}
}

// checkAnnotations re-derives the hints from the policy independently of
// mcpkit's own derivation, so that a bug there is caught here.
func checkAnnotations(t testing.TB, e *env) {
	srv := e.server(t)
	for _, tool := range e.wireTools(t) {
		info, mine := srv.Tool(tool.Name)
		if !mine {
			t.Errorf("tool %s is not registered through mcpkit: it has no policy to derive annotations from", tool.Name)
			continue
		}
		a := tool.Annotations
		if a == nil {
			t.Errorf("tool %s has no annotations", tool.Name)
			continue
		}
		p := info.Policy
		if a.ReadOnlyHint != (p.Risk == mcpkit.ReadOnly) {
			t.Errorf("tool %s: readOnlyHint=%v but the policy's risk is %s", tool.Name, a.ReadOnlyHint, p.Risk)
		}
		if p.Risk != mcpkit.ReadOnly {
			// The hint defaults to true when absent: only an explicit false
			// may stand for a non-destructive write.
			destructive := a.DestructiveHint == nil || *a.DestructiveHint
			if destructive != (p.Risk == mcpkit.Destructive) {
				t.Errorf("tool %s: destructiveHint=%v but the policy's risk is %s", tool.Name, destructive, p.Risk)
			}
			if a.IdempotentHint != p.Idempotent {
				t.Errorf("tool %s: idempotentHint=%v but the policy says idempotent=%v", tool.Name, a.IdempotentHint, p.Idempotent)
			}
		}
		openWorld := a.OpenWorldHint == nil || *a.OpenWorldHint
		if openWorld != p.OpenWorld {
			t.Errorf("tool %s: openWorldHint=%v but the policy says open world=%v", tool.Name, openWorld, p.OpenWorld)
		}
	}
}

func checkDestructiveApproval(t testing.TB, e *env) {
	for _, info := range e.server(t).Tools() {
		if info.Policy.Risk == mcpkit.Destructive && !info.Policy.Approval.Always() {
			t.Errorf("tool %s is destructive but its approval rule is %q: destructive tools must always require approval (or skip this check with the reviewer's reason)",
				info.Name, info.Policy.Approval)
		}
	}
}

func checkScopesDeclared(t testing.TB, e *env) {
	srv := e.server(t)
	for _, tool := range e.wireTools(t) {
		info, mine := srv.Tool(tool.Name)
		switch {
		case !mine:
			t.Errorf("tool %s is not registered through mcpkit: it has no policy, so no scopes", tool.Name)
		case len(info.Policy.Scopes) == 0 && !info.Policy.Public:
			t.Errorf("tool %s declares no scopes and is not marked public", tool.Name)
		}
	}
}
