package flagdfile_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/open-feature/go-sdk/openfeature"
	"github.com/open-feature/go-sdk/openfeature/isolated"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/flags"
	"github.com/mcpkit-go/mcpkit/flags/flagdfile"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// writeAtomic replaces path the way editors and config management do:
// write a temporary file beside it, then rename it over the original.
func writeAtomic(t testing.TB, path, content string) {
	t.Helper()
	tmp, err := os.CreateTemp(filepath.Dir(path), ".flags-*.tmp")
	require.NoError(t, err)
	_, err = tmp.WriteString(content)
	require.NoError(t, err)
	require.NoError(t, tmp.Close())
	require.NoError(t, os.Rename(tmp.Name(), path))
}

// fileEnv is a flag file served by a Provider behind an isolated
// OpenFeature API, with a gate on its client.
type fileEnv struct {
	path     string
	provider *flagdfile.Provider
	api      *openfeature.EvaluationAPI
	client   *openfeature.Client
	initErr  error
	events   *eventLog
}

func newFileEnv(t testing.TB, content string, opts ...flagdfile.Option) *fileEnv {
	t.Helper()
	path := filepath.Join(t.TempDir(), "flags.json")
	if content != "" {
		require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	}
	e := &fileEnv{path: path, events: &eventLog{}}
	p, err := flagdfile.New(path, append([]flagdfile.Option{flagdfile.WithDebounce(20 * time.Millisecond)}, opts...)...)
	require.NoError(t, err)
	e.provider = p
	e.api = isolated.NewAPI()
	e.client = e.api.NewClient()
	for _, et := range []openfeature.EventType{openfeature.ProviderReady, openfeature.ProviderConfigChange, openfeature.ProviderError} {
		fn := func(d openfeature.EventDetails) { e.events.add(et, d) }
		e.client.AddHandler(et, &fn)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	e.initErr = e.api.SetProviderAndWait(ctx, e.provider)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = e.api.Shutdown(ctx)
	})
	return e
}

// newGate is a flags.Gate on client, for the tests that drive the provider
// through the gate as a server would.
func newGate(t testing.TB, client flags.Client, opts ...flags.Option) *flags.Gate {
	t.Helper()
	g, err := flags.NewGate(client, opts...)
	require.NoError(t, err)
	return g
}

type eventLog struct {
	mu  sync.Mutex
	evs []string
}

func (l *eventLog) add(t openfeature.EventType, d openfeature.EventDetails) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.evs = append(l.evs, string(t)+": "+d.Message)
}

func (l *eventLog) has(prefix, contains string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.evs {
		if strings.HasPrefix(e, prefix) && strings.Contains(e, contains) {
			return true
		}
	}
	return false
}

func (l *eventLog) count(prefix string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.evs {
		if strings.HasPrefix(e, prefix) {
			n++
		}
	}
	return n
}

// boolFlag is a flag file with one boolean flag per key, on or off.
func boolFlags(states map[string]bool) string {
	var b strings.Builder
	b.WriteString(`{"flags": {`)
	i := 0
	for k, on := range states {
		if i > 0 {
			b.WriteString(",")
		}
		i++
		def := "off"
		if on {
			def = "on"
		}
		b.WriteString(`"` + k + `": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "` + def + `"}`)
	}
	b.WriteString(`}}`)
	return b.String()
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
func newServer(t testing.TB, gate mcpkit.Gate, id mcpkit.Identity, names ...string) (*mcpkit.Server, *recorder) {
	t.Helper()
	rec := &recorder{}
	opts := []mcpkit.Option{mcpkit.WithMiddleware(rec.mw), mcpkit.WithDefaultIdentity(id)}
	if gate != nil {
		opts = append(opts, mcpkit.WithGates(gate))
	}
	srv, err := mcpkit.NewServer(&mcp.Implementation{Name: "flags-test", Version: "1.0.0"}, opts...)
	require.NoError(t, err)
	risks := map[string]mcpkit.Risk{"get_echo": mcpkit.ReadOnly, "create_echo": mcpkit.Write, "delete_echo": mcpkit.Destructive}
	if len(names) == 0 {
		names = []string{"get_echo", "create_echo", "delete_echo"}
	}
	for _, n := range names {
		risk, ok := risks[n]
		if !ok {
			risk = mcpkit.ReadOnly
		}
		require.NoError(t, mcpkit.AddTool(srv, mcpkit.Tool{
			Name: n, Description: "Echo the text back.",
			Policy: mcpkit.Policy{Risk: risk, Public: true, Approval: mcpkit.ApprovalNever()},
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

func writeInPlace(path, content string) error {
	return os.WriteFile(path, []byte(content), 0o600)
}
