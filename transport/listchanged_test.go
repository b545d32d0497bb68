package transport_test

import (
	"context"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/transport"
)

type digestArgs struct {
	Day string `json:"day" jsonschema:"description=Day as YYYY-MM-DD"`
}

// TestPromptsListChangedReachesEachListenStream: two 2026-07-28 go-sdk
// clients over HTTP on 127.0.0.1, each on its own subscriptions/listen
// stream under its own token, hear notifications/prompts/list_changed
// (and tools/list_changed) when a gate's decision changes
// (Server.NotifyListsChanged, as flags.Gate.NotifyChanges calls it), as
// for tools: everyone listening is told, and each re-lists to its own
// list: alice and bob now see the flagged daily_digest but not purge_plan
// (notes:admin), which an admin sees.
func TestPromptsListChangedReachesEachListenStream(t *testing.T) {
	var on atomic.Bool
	flag := mcpkit.GateFunc(func(_ context.Context, c *mcpkit.Call) error {
		if c.Tool.Kind == mcpkit.KindPrompt && !on.Load() {
			return &mcpkit.Error{Code: mcpkit.CodeDeniedFlag, Message: c.Tool.Label() + " is off"}
		}
		return nil
	})
	srv, _ := newTestServer(t, mcpkit.WithGates(flag))
	require.NoError(t, mcpkit.AddPrompt(srv, mcpkit.Prompt{Name: "daily_digest", Description: "Summarize a day of notes.",
		Policy: mcpkit.Policy{Scopes: []string{"notes:read"}}},
		func(_ context.Context, in digestArgs) ([]*mcp.PromptMessage, error) {
			return []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: "Summarize " + in.Day}}}, nil
		}))
	require.NoError(t, mcpkit.AddPrompt(srv, mcpkit.Prompt{Name: "purge_plan", Description: "Plan a purge of old notes.",
		Policy: mcpkit.Policy{Scopes: []string{"notes:admin"}}},
		func(_ context.Context, in digestArgs) ([]*mcp.PromptMessage, error) {
			return []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: "Plan " + in.Day}}}, nil
		}))
	h, err := transport.NewHandler(srv, transport.WithAuthenticator(staticTokens(t)))
	require.NoError(t, err)
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)

	type listener struct {
		cs             *mcp.ClientSession
		prompts, tools chan struct{}
	}
	listen := func(token string) listener {
		l := listener{prompts: make(chan struct{}, 8), tools: make(chan struct{}, 8)}
		c := mcp.NewClient(&mcp.Implementation{Name: "listen-client", Version: "1"}, &mcp.ClientOptions{
			PromptListChangedHandler: func(context.Context, *mcp.PromptListChangedRequest) { l.prompts <- struct{}{} },
			ToolListChangedHandler:   func(context.Context, *mcp.ToolListChangedRequest) { l.tools <- struct{}{} },
		})
		cs, err := c.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: ts.URL + "/mcp", HTTPClient: bearerClient(token)},
			&mcp.ClientSessionOptions{ProtocolVersion: newRevision})
		require.NoError(t, err)
		t.Cleanup(func() { _ = cs.Close() })
		require.Equal(t, newRevision, cs.InitializeResult().ProtocolVersion)
		require.True(t, cs.InitializeResult().Capabilities.Prompts.ListChanged)
		l.cs = cs
		return l
	}
	prompts := func(l listener) []string {
		res, err := l.cs.ListPrompts(context.Background(), nil)
		require.NoError(t, err)
		assert.Equal(t, mcpkit.CacheScopePrivate, res.CacheScope)
		var out []string
		for _, p := range res.Prompts {
			out = append(out, p.Name)
		}
		return out
	}
	alice, bob := listen(aliceToken), listen(bobToken)
	assert.Empty(t, prompts(alice), "the flag is off")
	assert.Empty(t, prompts(bob))

	// Each client opens its listen stream in the background after
	// connecting; a change before the server holds it would go unheard,
	// so the change is announced until both have heard it.
	on.Store(true)
	heard := func(ch chan struct{}) bool {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
	var aliceHeard, bobHeard, aliceTools bool
	deadline := time.Now().Add(10 * time.Second)
	for !(aliceHeard && bobHeard && aliceTools) && time.Now().Before(deadline) {
		srv.NotifyListsChanged()
		time.Sleep(100 * time.Millisecond)
		aliceHeard = aliceHeard || heard(alice.prompts)
		bobHeard = bobHeard || heard(bob.prompts)
		aliceTools = aliceTools || heard(alice.tools)
	}
	require.True(t, aliceHeard, "alice heard no prompts/list_changed on her subscriptions/listen stream")
	require.True(t, bobHeard, "bob heard no prompts/list_changed on his subscriptions/listen stream")
	require.True(t, aliceTools, "tools/list_changed travels the same way")
	assert.Equal(t, []string{"daily_digest"}, prompts(alice))
	assert.Equal(t, []string{"daily_digest"}, prompts(bob))
	admin := listen(adminToken)
	assert.ElementsMatch(t, []string{"daily_digest", "purge_plan"}, prompts(admin), "each caller re-lists to its own list")
}
