package ratelimit_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
	"github.com/mcpkit-go/mcpkit/ratelimit"
)

type docRef struct {
	ID string `json:"id" jsonschema:"description=Document id,pattern=^[0-9]+$"`
}

// A resource limited by name counts reads in its own bucket: the second
// read is refused (denied_rate) without running, while listing never
// spends the budget.
func TestResourceReadsAreRateLimitedListsAreNot(t *testing.T) {
	mem, err := ratelimit.NewMemory()
	require.NoError(t, err)
	gate, err := ratelimit.NewGate(mem, ratelimit.Rules{Tool: map[string]ratelimit.Limit{"doc": {Events: 1, Per: time.Hour}}})
	require.NoError(t, err)
	srv, err := mcpkit.NewServer(&mcp.Implementation{Name: "docs", Version: "1"}, mcpkit.WithGates(gate))
	require.NoError(t, err)
	var runs atomic.Int64
	require.NoError(t, mcpkit.AddResourceTemplate(srv, mcpkit.ResourceTemplate{URITemplate: "doc://{id}", Name: "doc",
		Description: "A document.", Policy: mcpkit.Policy{Public: true}},
		func(_ context.Context, in docRef) ([]*mcp.ResourceContents, error) {
			runs.Add(1)
			return []*mcp.ResourceContents{{Text: in.ID}}, nil
		}))
	cs := mcpkittest.NewHarness(t, srv, mcpkittest.WithIdentity(mcpkit.Identity{Subject: "alice", AuthMethod: "local"})).Session
	ctx := context.Background()
	for range 3 {
		l, err := cs.ListResourceTemplates(ctx, nil)
		require.NoError(t, err)
		require.Len(t, l.ResourceTemplates, 1, "a limited resource stays listed")
	}
	_, err = cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "doc://1"})
	require.NoError(t, err, "listing spent none of the budget")
	_, err = cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "doc://2"})
	var we *jsonrpc.Error
	require.True(t, errors.As(err, &we), "%v", err)
	assert.Contains(t, we.Message, "resource doc was not run: you are over the rate limit for resource doc")
	assert.JSONEq(t, `{"outcome":"denied_rate"}`, string(we.Data))
	assert.Equal(t, int64(1), runs.Load())
}
