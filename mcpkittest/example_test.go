package mcpkittest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
	"github.com/mcpkit-go/mcpkit/serve"
)

type GreetIn struct {
	Name string `json:"name" jsonschema:"description=Who to greet"`
}

type GreetOut struct {
	Greeting string `json:"greeting" jsonschema:"description=The greeting"`
}

// A test connects a real client to the server in memory, as an identity,
// and calls tools through the whole chain: schema validation, gates,
// approval, audit.
func ExampleNewHarness() {
	t := newExampleT() // in a test: the *testing.T
	defer t.finish()

	srv := mcpkit.MustNewServer(&mcp.Implementation{Name: "greeter", Version: "1.0.0"})
	mcpkit.MustAddTool(srv, mcpkit.Tool{
		Name: "get_greeting", Description: "Greet someone by name.",
		Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Scopes: []string{"greetings:read"}},
	}, func(ctx context.Context, in GreetIn) (GreetOut, error) {
		c, _ := mcpkit.CallFromContext(ctx)
		return GreetOut{Greeting: "Hello, " + in.Name + ", from " + c.Identity.Subject}, nil
	})

	h := mcpkittest.NewHarness(t, srv,
		mcpkittest.WithIdentity(mcpkit.Identity{Subject: "alice", Scopes: []string{"greetings:read"}}),
		mcpkittest.WithProtocolVersion("2025-11-25"),
		mcpkittest.WithClientInfo("ci-agent", "2.0"))
	fmt.Println(h.ProtocolVersion(), h.Names())
	fmt.Println(mcpkittest.Text(h.MustCall("get_greeting", map[string]any{"name": "Bob"})))
	res := h.MustCall("get_greeting", map[string]any{"name": 7})
	fmt.Println(res.IsError, mcpkittest.Text(res))

	nobody := mcpkittest.NewHarness(t, srv, mcpkittest.WithIdentity(mcpkit.Identity{Subject: "mallory"}))
	fmt.Println(len(nobody.Names()), nobody.MustCall("get_greeting", map[string]any{"name": "Bob"}).IsError)
	// Output:
	// 2025-11-25 [get_greeting]
	// {"greeting":"Hello, Bob, from alice"}
	// true invalid arguments: arguments.name: must be a string (got integer)
	// 0 true
}

// contextBlindCache is a replay cache with a bug: it consumes states for a
// caller whose request has already ended.
type contextBlindCache struct{ *approval.MemoryReplayCache }

func (c contextBlindCache) Use(_ context.Context, id string, until time.Time) (bool, error) {
	return c.MemoryReplayCache.Use(context.Background(), id, until)
}

// A team's own replay cache (Redis, SQL) proves it meets the contract with
// one test; each failed property is named.
func ExampleTestReplayCache() {
	t := newExampleT() // in a test: the *testing.T, with a subtest per property
	defer t.finish()

	mcpkittest.TestReplayCache(t, func(testing.TB) approval.ReplayCache {
		return contextBlindCache{approval.NewMemoryReplayCache(0)}
	})
	// Output:
	// a done context is refused with its error: Use with a done context reported the id fresh: it must refuse (fail closed)
}

// exampleT stands in, in these examples, for the *testing.T a test has: it
// prints failures and runs cleanups when the example ends.
type exampleT struct {
	testing.TB
	cleanups []func()
}

func newExampleT() *exampleT { return &exampleT{} }

func (t *exampleT) Helper()                           {}
func (t *exampleT) Name() string                      { return "Example" }
func (t *exampleT) Cleanup(f func())                  { t.cleanups = append(t.cleanups, f) }
func (t *exampleT) Log(...any)                        {}
func (t *exampleT) Logf(string, ...any)               {}
func (t *exampleT) Error(args ...any)                 { fmt.Println(args...) }
func (t *exampleT) Errorf(format string, args ...any) { fmt.Printf(format+"\n", args...) }
func (t *exampleT) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

func (t *exampleT) finish() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}

// A server's repository keeps ready-made configurations for MCP clients
// under clients/; one test keeps them in step with the server: the pinned
// version, the flags it accepts, tokens taken from the environment.
func ExampleCheckClientConfigs() {
	dir, _ := os.MkdirTemp("", "clients") // in a test: "clients"
	defer os.RemoveAll(dir)
	_ = os.MkdirAll(filepath.Join(dir, "claude-code"), 0o755)
	_ = os.WriteFile(filepath.Join(dir, "claude-code", ".mcp.json"), []byte(`{"mcpServers": {
  "tickets-stdio": {"type": "stdio", "command": "go", "args": ["run", "example.com/tickets@v0.1.0", "-scopes", "tickets:read"]},
  "tickets-http": {"type": "http", "url": "http://127.0.0.1:8080/mcp", "headers": {"Authorization": "Bearer ${TICKETS_TOKEN}"}}}}`), 0o644)

	cfg := serve.Config{Name: "tickets", Version: "0.1.0"} // the server's own serve.Config
	fmt.Println(mcpkittest.CheckClientConfigs(dir, "example.com/tickets", cfg,
		mcpkittest.WithClientFiles(mcpkittest.ClaudeCodeConfig)))

	cfg.Version = "0.2.0" // a release that forgot the client files
	fmt.Println(mcpkittest.CheckClientConfigs(dir, "example.com/tickets", cfg,
		mcpkittest.WithClientFiles(mcpkittest.ClaudeCodeConfig)))
	// Output:
	// <nil>
	// claude-code/.mcp.json: tickets-stdio: want command go with args [run example.com/tickets@v0.2.0 ...], got go ["run" "example.com/tickets@v0.1.0" "-scopes" "tickets:read"]
}
