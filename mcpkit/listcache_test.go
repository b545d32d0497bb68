package mcpkit_test

import (
	"context"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// TestToolsListCacheFields: the list carries the server's ttlMs, and is
// private whenever a gate can filter it per caller (the default scope gate
// included); public only without any gate.
func TestToolsListCacheFields(t *testing.T) {
	for _, tc := range []struct {
		name      string
		opts      []mcpkit.Option
		wantScope string
		wantTTL   int
	}{
		{"default scope gate", nil, mcpkit.CacheScopePrivate, 0},
		{"ttl", []mcpkit.Option{mcpkit.WithListTTL(1500 * time.Millisecond)}, mcpkit.CacheScopePrivate, 1500},
		{"team gate", []mcpkit.Option{mcpkit.WithoutScopeEnforcement(), mcpkit.WithGates(mcpkit.GateFunc(func(_ context.Context, _ *mcpkit.Call) error { return nil }))}, mcpkit.CacheScopePrivate, 0},
		{"no gate at all", []mcpkit.Option{mcpkit.WithoutScopeEnforcement(), mcpkit.WithListTTL(time.Minute)}, mcpkit.CacheScopePublic, 60000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := newSumServer(t, tc.opts...)
			lr, err := mcpkittest.NewHarness(t, srv).Session.ListTools(context.Background(), nil)
			require.NoError(t, err)
			assert.Equal(t, tc.wantScope, lr.CacheScope)
			assert.Equal(t, tc.wantTTL, lr.TTLMs)
			assert.Len(t, lr.Tools, 1)
		})
	}
}

func TestWithListTTLRefusesOutOfRange(t *testing.T) {
	for _, d := range []time.Duration{-time.Millisecond, 25 * time.Hour} {
		_, err := mcpkit.NewServer(&mcp.Implementation{Name: "t", Version: "1"}, mcpkit.WithListTTL(d))
		assert.ErrorContains(t, err, "WithListTTL")
	}
}
