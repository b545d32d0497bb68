package mcpkit_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

type sumIn struct {
	A     int      `json:"a" jsonschema:"description=First addend,minimum=0,maximum=100"`
	B     int      `json:"b" jsonschema:"description=Second addend,minimum=0,maximum=100"`
	Label string   `json:"label,omitempty" jsonschema:"description=Optional label,enum=x,enum=y,default=x"`
	Tags  []string `json:"tags,omitempty" jsonschema:"description=Tags,maxItems=2"`
	Inner *struct {
		Code string `json:"code" jsonschema:"description=A code,pattern=^[A-Z]{3}$"`
	} `json:"inner,omitempty" jsonschema:"description=Nested object"`
}

type sumOut struct {
	Sum   int    `json:"sum" jsonschema:"description=The sum"`
	Label string `json:"label" jsonschema:"description=The label used"`
}

func newSumServer(t *testing.T, opts ...mcpkit.Option) (*mcpkit.Server, *atomic.Int64) {
	t.Helper()
	srv, err := mcpkit.NewServer(&mcp.Implementation{Name: "test", Version: "1.0.0"}, opts...)
	require.NoError(t, err)
	var calls atomic.Int64
	require.NoError(t, mcpkit.AddTool(srv, mcpkit.Tool{
		Name:        "add_numbers",
		Description: "Add two small numbers.",
		Policy:      mcpkit.Policy{Risk: mcpkit.ReadOnly, Public: true},
	}, func(ctx context.Context, in sumIn) (sumOut, error) {
		calls.Add(1)
		return sumOut{Sum: in.A + in.B, Label: in.Label}, nil
	}))
	return srv, &calls
}

func call(t *testing.T, cs *mcp.ClientSession, name string, args any) *mcp.CallToolResult {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	require.NoError(t, err)
	return res
}

func TestTypedToolCallReturnsStructuredAndTextOutput(t *testing.T) {
	srv, calls := newSumServer(t)
	cs := mcpkittest.NewHarness(t, srv).Session
	res := call(t, cs, "add_numbers", map[string]any{"a": 2, "b": 3})
	require.False(t, res.IsError, mcpkittest.Text(res))
	// The default from the schema reached the handler.
	assert.JSONEq(t, `{"sum":5,"label":"x"}`, mcpkittest.Text(res))
	b, err := json.Marshal(res.StructuredContent)
	require.NoError(t, err)
	assert.JSONEq(t, `{"sum":5,"label":"x"}`, string(b))
	assert.EqualValues(t, 1, calls.Load())
}

func TestInvalidArgumentsNameTheFieldAndNeverReachTheHandler(t *testing.T) {
	srv, calls := newSumServer(t)
	cs := mcpkittest.NewHarness(t, srv).Session
	cases := []struct {
		name string
		args any
		want string
	}{
		{"missing required", map[string]any{"a": 1}, "arguments.b: is required"},
		{"wrong type", map[string]any{"a": "one", "b": 1}, "arguments.a: must be an integer (got string)"},
		{"above maximum", map[string]any{"a": 101, "b": 1}, "arguments.a: must be <= 100 (got 101)"},
		{"below minimum", map[string]any{"a": -1, "b": 1}, "arguments.a: must be >= 0 (got -1)"},
		{"not an integer", map[string]any{"a": 1.5, "b": 1}, "arguments.a: must be an integer (got number)"},
		{"unknown field", map[string]any{"a": 1, "b": 1, "c": 1}, "arguments.c: unknown field (allowed: a, b, inner, label, tags)"},
		{"case variant is unknown", map[string]any{"a": 1, "b": 1, "A": 1}, "arguments.A: unknown field"},
		{"enum", map[string]any{"a": 1, "b": 1, "label": "z"}, `arguments.label: must be one of "x", "y" (got "z")`},
		{"too many items", map[string]any{"a": 1, "b": 1, "tags": []string{"1", "2", "3"}}, "arguments.tags: must have at most 2 items (got 3)"},
		{"item type", map[string]any{"a": 1, "b": 1, "tags": []any{"1", 2}}, "arguments.tags[1]: must be a string (got integer)"},
		{"nested pattern", map[string]any{"a": 1, "b": 1, "inner": map[string]any{"code": "ab"}}, `arguments.inner.code: must match the pattern ^[A-Z]{3}$ (got "ab")`},
		{"nested required", map[string]any{"a": 1, "b": 1, "inner": map[string]any{}}, "arguments.inner.code: is required"},
		{"not an object", []int{1}, "arguments: must be a JSON object"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := call(t, cs, "add_numbers", tc.args)
			assert.True(t, res.IsError)
			assert.Contains(t, mcpkittest.Text(res), tc.want)
		})
	}
	assert.Zero(t, calls.Load(), "the handler must never see invalid input")
}

func TestHandlerErrorsArePublicOnlyWhenMarked(t *testing.T) {
	srv, err := mcpkit.NewServer(&mcp.Implementation{Name: "test", Version: "1.0.0"})
	require.NoError(t, err)
	type in struct {
		Public bool `json:"public" jsonschema:"description=Return a public error"`
	}
	require.NoError(t, mcpkit.AddTool(srv, mcpkit.Tool{
		Name: "get_thing", Description: "Get a thing.", Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Public: true},
	}, func(ctx context.Context, in in) (sumOut, error) {
		if in.Public {
			return sumOut{}, mcpkit.PublicError("thing %d not found", 7)
		}
		return sumOut{}, errors.New("pq: password authentication failed for user admin")
	}))
	cs := mcpkittest.NewHarness(t, srv).Session
	res := call(t, cs, "get_thing", map[string]any{"public": true})
	assert.True(t, res.IsError)
	assert.Equal(t, "thing 7 not found", mcpkittest.Text(res))
	res = call(t, cs, "get_thing", map[string]any{"public": false})
	assert.True(t, res.IsError)
	assert.NotContains(t, mcpkittest.Text(res), "password")
	assert.Contains(t, mcpkittest.Text(res), "internal error")
}

func TestPanicIsContainedAndServerKeepsServing(t *testing.T) {
	var seen *mcpkit.Call
	record := func(next mcpkit.Handler) mcpkit.Handler {
		return func(ctx context.Context, c *mcpkit.Call) (*mcp.CallToolResult, error) {
			res, err := next(ctx, c)
			seen = c
			return res, err
		}
	}
	srv, err := mcpkit.NewServer(&mcp.Implementation{Name: "test", Version: "1.0.0"}, mcpkit.WithMiddleware(record))
	require.NoError(t, err)
	type in struct {
		Boom bool `json:"boom" jsonschema:"description=Panic if true"`
	}
	require.NoError(t, mcpkit.AddTool(srv, mcpkit.Tool{
		Name: "run_thing", Description: "Run a thing.", Policy: mcpkit.Policy{Risk: mcpkit.Write, Public: true},
	}, func(ctx context.Context, in in) (sumOut, error) {
		if in.Boom {
			panic("secret-internal-detail")
		}
		return sumOut{Sum: 1}, nil
	}))
	cs := mcpkittest.NewHarness(t, srv).Session
	res := call(t, cs, "run_thing", map[string]any{"boom": true})
	assert.True(t, res.IsError)
	assert.NotContains(t, mcpkittest.Text(res), "secret-internal-detail")
	require.NotNil(t, seen)
	assert.Equal(t, mcpkit.OutcomePanic, seen.Outcome())
	assert.Contains(t, seen.Err().Error(), "secret-internal-detail")
	assert.NotEmpty(t, seen.PanicStack())

	res = call(t, cs, "run_thing", map[string]any{"boom": false})
	assert.False(t, res.IsError)
	assert.Equal(t, mcpkit.OutcomeOK, seen.Outcome())
}
