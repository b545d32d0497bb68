package mcpkit_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

type blobIn struct {
	Size  int    `json:"size" jsonschema:"description=How many bytes to return"`
	Fill  string `json:"fill,omitempty" jsonschema:"description=The byte to repeat"`
	Short bool   `json:"short,omitempty" jsonschema:"description=Render a short text with the structured content"`
}

type blobOut struct {
	Data  string `json:"data" jsonschema:"description=The bytes"`
	short bool
}

func (b blobOut) RenderText() string {
	if b.short {
		return "a blob"
	}
	return b.Data
}

// outcomes records each call's outcome and cause, as the audit record
// would.
type outcomes struct {
	last  mcpkit.Outcome
	cause error
}

func (o *outcomes) middleware(next mcpkit.Handler) mcpkit.Handler {
	return func(ctx context.Context, c *mcpkit.Call) (*mcp.CallToolResult, error) {
		res, err := next(ctx, c)
		o.last, o.cause = c.Outcome(), c.Err()
		return res, err
	}
}

// blobServer serves get_blob (server limit), get_small_blob (1,000 bytes),
// get_big_blob (4 MiB) and update_blob (a write, server limit).
func blobServer(t *testing.T, opts ...mcpkit.Option) (*mcpkit.Server, *outcomes, *int) {
	t.Helper()
	o := &outcomes{}
	ran := 0
	s, err := mcpkit.NewServer(&mcp.Implementation{Name: "blobs", Version: "1"}, append([]mcpkit.Option{mcpkit.WithMiddleware(o.middleware)}, opts...)...)
	require.NoError(t, err)
	h := func(_ context.Context, in blobIn) (blobOut, error) {
		ran++
		fill := in.Fill
		if fill == "" {
			fill = "x"
		}
		return blobOut{Data: strings.Repeat(fill, in.Size), short: in.Short}, nil
	}
	for _, tool := range []mcpkit.Tool{
		{Name: "get_blob", Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Public: true}},
		{Name: "get_small_blob", Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Public: true}, MaxResultBytes: 1000},
		{Name: "get_big_blob", Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Public: true}, MaxResultBytes: 4 << 20},
		{Name: "update_blob", Policy: mcpkit.Policy{Risk: mcpkit.Write, Public: true}},
	} {
		tool.Description = "Return a blob."
		require.NoError(t, mcpkit.AddTool(s, tool, h))
	}
	return s, o, &ran
}

func TestOversizeResultIsRefusedWhole(t *testing.T) {
	s, o, ran := blobServer(t)
	cs := mcpkittest.NewHarness(t, s).Session
	info, _ := s.Tool("get_blob")
	assert.Equal(t, mcpkit.DefaultMaxResultBytes, info.MaxResultBytes, "on by default")

	// 600 KB in text and again in structuredContent: 1.2 MB on the wire.
	res := call(t, cs, "get_blob", map[string]any{"size": 600_000})
	assert.True(t, res.IsError)
	assert.Nil(t, res.StructuredContent, "no partial structured content that the output schema would not accept")
	assert.Regexp(t, `^tool get_blob returned 12\d{5} bytes, over its result limit of 1048576 bytes, so nothing was returned\. Ask for less`, mcpkittest.Text(res))
	assert.Less(t, len(mcpkittest.Text(res)), 400)
	assert.Equal(t, mcpkit.OutcomeResultTooLarge, o.last)
	var tl *mcpkit.ResultTooLargeError
	require.True(t, errors.As(o.cause, &tl))
	assert.Equal(t, 1<<20, tl.Limit)

	res = call(t, cs, "get_blob", map[string]any{"size": 500_000})
	assert.False(t, res.IsError, "1 MB on the wire is within the bound")
	assert.NotNil(t, res.StructuredContent)
	assert.Equal(t, mcpkit.OutcomeOK, o.last)

	// structuredContent counts even when the text is short.
	res = call(t, cs, "get_blob", map[string]any{"size": 1_100_000, "short": true})
	assert.True(t, res.IsError)
	assert.Contains(t, mcpkittest.Text(res), "over its result limit")

	// Escaping counts: 100,000 control bytes are 600,000 on the wire, twice.
	res = call(t, cs, "get_blob", map[string]any{"size": 100_000, "fill": "\x01"})
	assert.True(t, res.IsError, "the limit is on the serialized result, not the raw bytes")
	assert.Equal(t, 4, *ran)
}

func TestResultLimitPerToolAndServer(t *testing.T) {
	s, o, _ := blobServer(t)
	cs := mcpkittest.NewHarness(t, s).Session
	res := call(t, cs, "get_small_blob", map[string]any{"size": 600})
	assert.True(t, res.IsError)
	assert.Contains(t, mcpkittest.Text(res), "over its result limit of 1000 bytes")
	assert.False(t, call(t, cs, "get_small_blob", map[string]any{"size": 100}).IsError)
	assert.False(t, call(t, cs, "get_big_blob", map[string]any{"size": 1_500_000}).IsError, "a tool may raise its own bound")

	res = call(t, cs, "update_blob", map[string]any{"size": 600_000})
	assert.True(t, res.IsError)
	assert.Contains(t, mcpkittest.Text(res), "tool update_blob ran and its changes stand")
	assert.Contains(t, mcpkittest.Text(res), "Do not repeat the call")
	assert.Equal(t, mcpkit.OutcomeResultTooLarge, o.last)

	s, _, _ = blobServer(t, mcpkit.WithMaxResultBytes(4096))
	cs = mcpkittest.NewHarness(t, s).Session
	res = call(t, cs, "get_blob", map[string]any{"size": 3000})
	assert.True(t, res.IsError)
	assert.Contains(t, mcpkittest.Text(res), "over its result limit of 4096 bytes")
	assert.False(t, call(t, cs, "get_blob", map[string]any{"size": 1000}).IsError)
	assert.False(t, call(t, cs, "get_big_blob", map[string]any{"size": 10_000}).IsError, "the tool's own bound wins")
}

func TestResultLimitOptionsAreChecked(t *testing.T) {
	for _, n := range []int{0, -1} {
		_, err := mcpkit.NewServer(&mcp.Implementation{Name: "t", Version: "1"}, mcpkit.WithMaxResultBytes(n))
		assert.ErrorContains(t, err, "must be positive")
	}
	s := mcpkit.MustNewServer(&mcp.Implementation{Name: "t", Version: "1"})
	err := mcpkit.AddTool(s, mcpkit.Tool{Name: "get_blob", Description: "d.", Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Public: true}, MaxResultBytes: -1},
		func(context.Context, blobIn) (blobOut, error) { return blobOut{}, nil })
	assert.ErrorContains(t, err, "MaxResultBytes must be positive")
}
