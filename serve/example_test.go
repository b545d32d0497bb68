package serve_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/serve"
)

type pingIn struct {
	Who string `json:"who" jsonschema:"description=Who is pinging"`
}

type pingOut struct {
	Reply string `json:"reply" jsonschema:"description=The answer"`
}

func registerPing(srv *mcpkit.Server) error {
	return mcpkit.AddTool(srv, mcpkit.Tool{
		Name:        "ping",
		Description: "Answer a ping.",
		Policy:      mcpkit.Policy{Risk: mcpkit.ReadOnly, Scopes: []string{"ping:read"}},
	}, func(_ context.Context, in pingIn) (pingOut, error) {
		return pingOut{Reply: "pong, " + in.Who}, nil
	})
}

// A complete server: its tools plus Main. With no flags it serves stdio as
// the local user; -http ADDR -tokens FILE serves streamable HTTP.
func ExampleMain() {
	serve.Main(serve.Config{
		Name:    "ping",
		Version: "0.1.0",
		Scopes:  []string{"ping:read"},
		Tools:   registerPing,
	})
}

// New sets a server up without serving it: a test connects a client to the
// fully wired server (audit, flags, approval) in memory.
func ExampleNew() {
	dir, _ := os.MkdirTemp("", "ping")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	cfg := serve.Config{Name: "ping", Version: "0.1.0", Scopes: []string{"ping:read"}, Tools: registerPing}
	s, err := serve.New(ctx, cfg, []string{"-audit", filepath.Join(dir, "audit.jsonl"), "-approver", "deny"},
		serve.IO{Stderr: io.Discard, Getenv: func(string) string { return "" }})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close(ctx)

	st, ct := mcp.NewInMemoryTransports()
	ss, _ := s.MCP().MCPServer().Connect(ctx, st, nil)
	defer ss.Close()
	cs, _ := mcp.NewClient(&mcp.Implementation{Name: "example", Version: "1"}, nil).Connect(ctx, ct, nil)
	defer cs.Close()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "ping", Arguments: map[string]any{"who": "alice"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.StructuredContent)
	// Output:
	// map[reply:pong, alice]
}

// Configuration errors come from New before anything serves.
func ExampleNew_refused() {
	cfg := serve.Config{Name: "ping", Version: "0.1.0", Tools: registerPing}
	_, err := serve.New(context.Background(), cfg, []string{"-http", "0.0.0.0:8080", "-no-auth"}, serve.IO{Stderr: io.Discard})
	fmt.Println(err)
	// Output:
	// -no-auth is refused on non-loopback address "0.0.0.0:8080": serve on 127.0.0.1 or [::1], or authenticate with -tokens or -jwks
}

// Every server built on serve has the same command line; a test checks a
// client configuration's arguments against it.
func ExampleFlagSet() {
	fs := serve.FlagSet(serve.Config{Name: "tickets", Version: "0.1.0", Scopes: []string{"tickets:read"}})
	err := fs.Parse([]string{"-http", "127.0.0.1:8080", "-tokens", "tokens.json", "-approver", "console", "-console", "127.0.0.1:8081"})
	fmt.Println(err, fs.Lookup("audit").DefValue, fs.Lookup("scopes").DefValue)
	// Output:
	// <nil> tickets-audit.jsonl tickets:read
}

// A server's approval secrets are read from variables named after it.
func ExampleConfig_ApprovalKeysEnv() {
	cfg := serve.Config{Name: "tickets", Version: "0.1.0"}
	fmt.Println(cfg.ApprovalKeysEnv())
	fmt.Println(cfg.ApproverTokensEnv())
	// Output:
	// TICKETS_APPROVAL_KEYS
	// TICKETS_APPROVER_TOKENS
}
