package mcpkit_test

import (
	"context"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

type GreetIn struct {
	Name string `json:"name" jsonschema:"description=Who to greet,minLength=1,maxLength=40"`
}

type GreetOut struct {
	Greeting string `json:"greeting" jsonschema:"description=The greeting"`
}

// A typed tool with a policy, called by a real client over in-memory
// transports.
func Example() {
	srv := mcpkit.MustNewServer(&mcp.Implementation{Name: "greeter", Version: "1.0.0"},
		mcpkit.WithGates(mcpkit.ScopeGate()),
		mcpkit.WithDefaultIdentity(mcpkit.Identity{Subject: "alice", Scopes: []string{"greet"}}))
	mcpkit.MustAddTool(srv, mcpkit.Tool{
		Name:        "create_greeting",
		Description: "Create a greeting for someone.",
		Policy:      mcpkit.Policy{Risk: mcpkit.ReadOnly, Scopes: []string{"greet"}},
	}, func(ctx context.Context, in GreetIn) (GreetOut, error) {
		return GreetOut{Greeting: "Hello, " + in.Name}, nil
	})

	ctx := context.Background()
	ct, st := mcp.NewInMemoryTransports()
	ss, _ := srv.MCPServer().Connect(ctx, st, nil)
	defer ss.Close()
	cs, _ := mcp.NewClient(&mcp.Implementation{Name: "client", Version: "1"}, nil).Connect(ctx, ct, nil)
	defer cs.Close()

	res, _ := cs.CallTool(ctx, &mcp.CallToolParams{Name: "create_greeting", Arguments: map[string]any{"name": "Bob"}})
	fmt.Println(res.Content[0].(*mcp.TextContent).Text)
	res, _ = cs.CallTool(ctx, &mcp.CallToolParams{Name: "create_greeting", Arguments: map[string]any{"name": ""}})
	fmt.Println(res.IsError, res.Content[0].(*mcp.TextContent).Text)
	// Output:
	// {"greeting":"Hello, Bob"}
	// true invalid arguments: arguments.name: must be at least 1 character (got 0)
}

// Policies derive the MCP annotations, so the hints a client shows cannot
// disagree with what the server enforces.
func ExamplePolicy_Annotations() {
	p := mcpkit.Policy{Risk: mcpkit.Destructive, Scopes: []string{"admin"}}
	a := p.Annotations("Delete")
	fmt.Println(a.ReadOnlyHint, *a.DestructiveHint, a.IdempotentHint, *a.OpenWorldHint)
	// Output: false true false false
}

// Select applies a middleware to a subset of tools: here only writes and
// destructive tools are logged.
func ExampleSelect() {
	logWrites := func(next mcpkit.Handler) mcpkit.Handler {
		return func(ctx context.Context, c *mcpkit.Call) (*mcp.CallToolResult, error) {
			fmt.Println("write:", c.Tool.Name)
			return next(ctx, c)
		}
	}
	srv := mcpkit.MustNewServer(&mcp.Implementation{Name: "demo", Version: "1.0.0"},
		mcpkit.WithMiddleware(mcpkit.Select(mcpkit.ByRisk(mcpkit.Write, mcpkit.Destructive), logWrites)))
	for _, t := range []struct {
		name string
		risk mcpkit.Risk
	}{{"get_greeting", mcpkit.ReadOnly}, {"update_greeting", mcpkit.Write}} {
		mcpkit.MustAddTool(srv, mcpkit.Tool{Name: t.name, Description: "A greeting tool.", Policy: mcpkit.Policy{Risk: t.risk, Public: true}},
			func(ctx context.Context, in GreetIn) (GreetOut, error) {
				return GreetOut{Greeting: "hi " + in.Name}, nil
			})
	}
	ctx := context.Background()
	ct, st := mcp.NewInMemoryTransports()
	ss, _ := srv.MCPServer().Connect(ctx, st, nil)
	defer ss.Close()
	cs, _ := mcp.NewClient(&mcp.Implementation{Name: "client", Version: "1"}, nil).Connect(ctx, ct, nil)
	defer cs.Close()
	for _, name := range []string{"get_greeting", "update_greeting"} {
		_, _ = cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: map[string]any{"name": "x"}})
	}
	// Output: write: update_greeting
}
