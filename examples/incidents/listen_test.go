package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/examples/internal/servertest"
)

// deleteFlag is a flag file whose only flag turns delete_incident on or
// off for everyone.
func deleteFlag(on bool) []byte {
	state := "DISABLED"
	if on {
		state = "ENABLED"
	}
	return []byte(`{"flags": {"tool.delete_incident": {"state": "` + state + `", "variants": {"on": true, "off": false}, "defaultVariant": "on"}}}`)
}

// TestSubscriptionsListenDeliversFlagFlipsPerCaller: two 2026-07-28 clients
// on the default HTTP handler, each on its own subscriptions/listen stream
// under its own token, both hear notifications/tools/list_changed when a
// flag flips; re-listing, each sees its own list: carol gains
// delete_incident, bob (no incidents:admin) still does not.
func TestSubscriptionsListenDeliversFlagFlipsPerCaller(t *testing.T) {
	flagFile := filepath.Join(t.TempDir(), "flags.json")
	require.NoError(t, os.WriteFile(flagFile, deleteFlag(false), 0o600))
	base := startHTTP(t, "-tokens", "testdata/tokens.json", "-flags", flagFile)

	type listener struct {
		cs      *mcp.ClientSession
		changed chan struct{}
	}
	listen := func(token string) listener {
		l := listener{changed: make(chan struct{}, 16)}
		opts := &mcp.ClientOptions{ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) { l.changed <- struct{}{} }}
		cs, err := mcp.NewClient(&mcp.Implementation{Name: "listen-test", Version: "1"}, opts).
			Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: base + "/mcp", HTTPClient: servertest.TokenClient(token)},
				&mcp.ClientSessionOptions{ProtocolVersion: "2026-07-28"})
		require.NoError(t, err)
		t.Cleanup(func() { _ = cs.Close() })
		require.Equal(t, "2026-07-28", cs.InitializeResult().ProtocolVersion)
		require.Empty(t, cs.ID(), "no session")
		l.cs = cs
		return l
	}
	has := func(l listener, tool string) bool {
		lr, err := l.cs.ListTools(context.Background(), nil)
		require.NoError(t, err)
		assert.Equal(t, "private", lr.CacheScope)
		for _, x := range lr.Tools {
			if x.Name == tool {
				return true
			}
		}
		return false
	}
	carol, bob := listen(carolDevToken), listen(bobDevToken)
	require.False(t, has(carol, "delete_incident"), "the flag is off")
	// The clients open their listen streams after connecting, without a
	// signal when they are up; a flip before that would go unheard.
	time.Sleep(time.Second)

	require.NoError(t, os.WriteFile(flagFile, deleteFlag(true), 0o600))
	for name, l := range map[string]listener{"carol": carol, "bob": bob} {
		select {
		case <-l.changed:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s heard no tools/list_changed on subscriptions/listen after the flag flipped", name)
		}
	}
	assert.Eventually(t, func() bool { return has(carol, "delete_incident") }, 5*time.Second, 50*time.Millisecond, "carol sees the flagged-on tool")
	assert.False(t, has(bob, "delete_incident"), "bob lacks incidents:admin: the flag does not show it to him")
}
