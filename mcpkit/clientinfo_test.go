package mcpkit_test

import (
	"context"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// A client announcing a 3 MB name at initialize is refused with invalid
// params: client info is copied into every record of the session.
func TestOversizedClientInfoIsRefusedAtInitialize(t *testing.T) {
	srv, calls := newSumServer(t)
	for _, impl := range []*mcp.Implementation{
		{Name: strings.Repeat("N", 3_000_000), Version: "1"},
		{Name: "ok", Version: strings.Repeat("V", 257)},
		{Name: "ok", Version: "1", Title: strings.Repeat("T", 257)},
	} {
		ct, st := mcp.NewInMemoryTransports()
		ss, err := srv.MCPServer().Connect(context.Background(), st, nil)
		require.NoError(t, err)
		t.Cleanup(func() { _ = ss.Close() })
		_, err = mcp.NewClient(impl, nil).Connect(context.Background(), ct, &mcp.ClientSessionOptions{ProtocolVersion: "2025-06-18"})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "at most 256 are accepted")
	}
	assert.Zero(t, calls.Load())
}

// With 2026-07-28 the client info arrives in every request's _meta; an
// oversized one is refused there too, and the tool does not run.
func TestOversizedClientInfoInMetaIsRefused(t *testing.T) {
	srv, calls := newSumServer(t)
	cs := mcpkittest.NewHarness(t, srv, mcpkittest.WithProtocolVersion("2026-07-28")).Session
	_, err := cs.CallTool(context.Background(), &mcp.CallToolParams{
		Meta:      mcp.Meta{mcp.MetaKeyClientInfo: &mcp.Implementation{Name: strings.Repeat("N", 100_000), Version: "1"}},
		Name:      "add_numbers",
		Arguments: map[string]any{"a": 1, "b": 2},
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "clientInfo.name is 100000 bytes; at most 256 are accepted")
	assert.Zero(t, calls.Load(), "the tool did not run")

	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "add_numbers", Arguments: map[string]any{"a": 1, "b": 2}})
	require.NoError(t, err)
	assert.False(t, res.IsError)
	assert.Equal(t, int64(1), calls.Load())
}
