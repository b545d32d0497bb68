package mcpkittest

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// probe is one invalid call and the words its refusal must contain.
type probe struct {
	args map[string]any
	want string
}

// invalidCalls builds, for each tool, calls that break its schema in one
// way, and checks each is refused with a message naming the field, through
// validation, without reaching the handler.
func invalidCalls(t testing.TB, e *env, gen func(s *jsonschema.Schema) []probe) {
	o := newObserver()
	srv := e.build(t, o.options(false)...)
	h := NewHarness(t, srv, WithIdentity(superuser(srv.Tools())))
	probed := 0
	for _, info := range srv.Tools() {
		var s jsonschema.Schema
		if err := json.Unmarshal(info.InputSchema, &s); err != nil {
			t.Errorf("tool %s: input schema: %v", info.Name, err)
			continue
		}
		for _, p := range gen(&s) {
			probed++
			res, err := h.Call(info.Name, p.args)
			if err != nil {
				t.Errorf("tool %s with %v: protocol error %v; invalid arguments must be a tool error the model can read", info.Name, p.args, err)
				continue
			}
			got, _ := o.last()
			if got.outcome != mcpkit.OutcomeInvalidInput {
				t.Errorf("tool %s with %v: outcome %s (%v), want invalid_input; build the server under test so that every tool is callable (all scopes, flags on)",
					info.Name, p.args, got.outcome, got.err)
			}
			if !res.IsError || !strings.Contains(Text(res), p.want) {
				t.Errorf("tool %s with %v: got isError=%v %q, want an error containing %q", info.Name, p.args, res.IsError, Text(res), p.want)
			}
			if n := o.reachedCount(info.Name); n > 0 {
				t.Errorf("tool %s: invalid arguments %v reached the handler", info.Name, p.args)
			}
		}
	}
	if probed == 0 {
		t.Skip("no tool has a property this check can probe")
	}
}

func checkWrongTypes(t testing.TB, e *env) {
	invalidCalls(t, e, func(s *jsonschema.Schema) []probe {
		var out []probe
		for _, name := range sortedProps(s) {
			v, ok := wrongValue(s.Properties[name])
			if !ok {
				continue
			}
			out = append(out, probe{args: map[string]any{name: v}, want: "arguments." + name + ":"})
		}
		return out
	})
}

func checkMissingRequired(t testing.TB, e *env) {
	invalidCalls(t, e, func(s *jsonschema.Schema) []probe {
		if len(s.Required) == 0 {
			return nil
		}
		return []probe{{args: map[string]any{}, want: "arguments." + s.Required[0] + ": is required"}}
	})
}

func checkUnknownFields(t testing.TB, e *env) {
	const field = "mcpkittest_unknown_field"
	invalidCalls(t, e, func(*jsonschema.Schema) []probe {
		return []probe{{args: map[string]any{field: 1}, want: "arguments." + field + ": unknown field"}}
	})
}

// wrongValue returns a value whose JSON type the schema does not allow.
func wrongValue(s *jsonschema.Schema) (any, bool) {
	types := s.Types
	if s.Type != "" {
		types = []string{s.Type}
	}
	if len(types) == 0 {
		return nil, false
	}
	for _, v := range []any{"mcpkittest-wrong-type", 12345, true, []any{1}, map[string]any{"x": 1}} {
		if !slices.Contains(types, jsonKind(v)) && !(jsonKind(v) == "integer" && slices.Contains(types, "number")) {
			return v, true
		}
	}
	return nil, false
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case int:
		return "integer"
	case bool:
		return "boolean"
	case []any:
		return "array"
	}
	return "object"
}

func sortedProps(s *jsonschema.Schema) []string {
	names := make([]string, 0, len(s.Properties))
	for n := range s.Properties {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func checkUnknownTool(t testing.TB, e *env) {
	o := newObserver()
	srv := e.build(t, o.options(false)...)
	h := NewHarness(t, srv, WithIdentity(superuser(srv.Tools())))
	const name = "get_mcpkittest_no_such_tool"
	res, err := h.Call(name, map[string]any{})
	var we *jsonrpc.Error
	if !errors.As(err, &we) {
		t.Errorf("calling an unknown tool gave %v, %q; want a JSON-RPC error", err, Text(res))
	}
	if got, ok := o.last(); !ok || got.tool != name || got.outcome != mcpkit.OutcomeUnknownTool {
		t.Errorf("the call to an unknown tool was observed as %+v; want outcome unknown_tool (so it is audited)", got)
	}
}

// checkPanicContained injects a panicking middleware inside the server's
// own middleware and checks the call fails cleanly, is recorded as a panic,
// and the server keeps serving.
func checkPanicContained(t testing.TB, e *env) {
	o := newObserver()
	boom := func(next mcpkit.Handler) mcpkit.Handler {
		return func(ctx context.Context, c *mcpkit.Call) (*mcp.CallToolResult, error) {
			if strings.HasPrefix(string(c.Arguments), `{"mcpkittest_panic"`) {
				panic("mcpkittest: injected panic")
			}
			return next(ctx, c)
		}
	}
	opts := append(o.options(false), mcpkit.WithMiddleware(boom))
	srv := e.build(t, opts...)
	tools := srv.Tools()
	if len(tools) == 0 {
		t.Skip("the server has no tools")
	}
	h := NewHarness(t, srv, WithIdentity(superuser(tools)))
	res, err := h.Call(tools[0].Name, map[string]any{"mcpkittest_panic": true})
	if err != nil {
		t.Fatalf("a panic in the chain became a protocol error (%v); want an isError result", err)
	}
	if !res.IsError || strings.Contains(Text(res), "injected panic") {
		t.Errorf("after a panic the client got isError=%v %q; want isError with a generic message", res.IsError, Text(res))
	}
	if got, _ := o.last(); got.outcome != mcpkit.OutcomePanic {
		t.Errorf("the panicking call was recorded as %q; want panic", got.outcome)
	}
	if names := h.Names(); len(names) == 0 {
		t.Errorf("after a panic the server lists no tools")
	}
	res, err = h.Call(tools[0].Name, map[string]any{"mcpkittest_unknown_field": 1})
	if err != nil || !res.IsError {
		t.Errorf("after a panic the server does not answer calls: %v", err)
	}
}
