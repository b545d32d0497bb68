package flags_test

import (
	"context"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/open-feature/go-sdk/openfeature"
	"github.com/open-feature/go-sdk/openfeature/isolated"
	"github.com/open-feature/go-sdk/openfeature/memprovider"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/flags"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// newGate is flags.NewGate for tests, which must not fail.
func newGate(t testing.TB, client flags.Client, opts ...flags.Option) *flags.Gate {
	t.Helper()
	g, err := flags.NewGate(client, opts...)
	require.NoError(t, err)
	return g
}

// boolFlags is an in-memory flag set with one boolean flag per key.
func boolFlags(states map[string]bool) map[string]memprovider.InMemoryFlag {
	out := make(map[string]memprovider.InMemoryFlag, len(states))
	for k, on := range states {
		def := "off"
		if on {
			def = "on"
		}
		out[k] = memprovider.InMemoryFlag{Key: k, State: memprovider.Enabled, DefaultVariant: def,
			Variants: map[string]any{"on": true, "off": false}}
	}
	return out
}

// memClient serves defs from an in-memory provider behind an isolated
// OpenFeature API. The gate works with any provider; these tests need no
// flag file.
func memClient(t testing.TB, defs map[string]memprovider.InMemoryFlag) (*openfeature.Client, *memprovider.InMemoryProvider) {
	t.Helper()
	p := memprovider.NewInMemoryProvider(defs)
	api := isolated.NewAPI()
	require.NoError(t, api.SetProviderAndWait(context.Background(), p))
	t.Cleanup(func() { _ = api.Shutdown(context.Background()) })
	return api.NewClient(), p
}

type echoIn struct {
	Text string `json:"text" jsonschema:"description=Text to echo"`
}

type echoOut struct {
	Text string `json:"text" jsonschema:"description=The echoed text"`
}

// recorder is an outer middleware that keeps the last call, as an audit
// sink would see it.
type recorder struct {
	mu   sync.Mutex
	last *mcpkit.Call
}

func (r *recorder) mw(next mcpkit.Handler) mcpkit.Handler {
	return func(ctx context.Context, c *mcpkit.Call) (*mcp.CallToolResult, error) {
		res, err := next(ctx, c)
		r.mu.Lock()
		r.last = c
		r.mu.Unlock()
		return res, err
	}
}

func (r *recorder) lastCall() *mcpkit.Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

// newServer builds a server with read, write and destructive echo tools
// behind gate, recording every call.
func newServer(t testing.TB, gate mcpkit.Gate, id mcpkit.Identity) (*mcpkit.Server, *recorder) {
	t.Helper()
	rec := &recorder{}
	opts := []mcpkit.Option{mcpkit.WithMiddleware(rec.mw), mcpkit.WithDefaultIdentity(id)}
	if gate != nil {
		opts = append(opts, mcpkit.WithGates(gate))
	}
	srv, err := mcpkit.NewServer(&mcp.Implementation{Name: "flags-test", Version: "1.0.0"}, opts...)
	require.NoError(t, err)
	for _, tool := range []struct {
		name string
		risk mcpkit.Risk
	}{{"get_echo", mcpkit.ReadOnly}, {"create_echo", mcpkit.Write}, {"delete_echo", mcpkit.Destructive}} {
		require.NoError(t, mcpkit.AddTool(srv, mcpkit.Tool{
			Name: tool.name, Description: "Echo the text back.",
			Policy: mcpkit.Policy{Risk: tool.risk, Public: true, Approval: mcpkit.ApprovalNever()},
		}, func(_ context.Context, in echoIn) (echoOut, error) { return echoOut(in), nil }))
	}
	return srv, rec
}

// onListChanged calls f on every notifications/tools/list_changed.
func onListChanged(f func()) mcpkittest.HarnessOption {
	return mcpkittest.WithClientOptions(&mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) { f() },
	})
}

// connect connects mcpkittest's harness (a real go-sdk client, in memory)
// to srv as flags-test-client 2.0.0. version selects the protocol ("" for
// the newest); listChanged, if not nil, runs on every
// notifications/tools/list_changed.
func connect(t testing.TB, srv *mcpkit.Server, version string, listChanged func()) *mcp.ClientSession {
	t.Helper()
	opts := []mcpkittest.HarnessOption{mcpkittest.WithClientInfo("flags-test-client", "2.0.0")}
	if version != "" {
		opts = append(opts, mcpkittest.WithProtocolVersion(version))
	}
	if listChanged != nil {
		opts = append(opts, onListChanged(listChanged))
	}
	return mcpkittest.NewHarness(t, srv, opts...).Session
}

func toolNames(t testing.TB, cs *mcp.ClientSession) []string {
	t.Helper()
	res, err := cs.ListTools(context.Background(), nil)
	require.NoError(t, err)
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
	}
	return names
}

func callTool(t testing.TB, cs *mcp.ClientSession, name string) *mcp.CallToolResult {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: map[string]any{"text": "hi"}})
	require.NoError(t, err)
	return res
}
