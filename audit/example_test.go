package audit_test

import (
	"context"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkit"
)

func ExampleMiddleware() {
	// A sink that prints; in production, audit.Open("audit.jsonl", audit.WithKeyring(keys)).
	print := audit.SinkFunc(func(_ context.Context, r *audit.Record) error {
		fmt.Printf("%s phase=%q outcome=%q arguments=%s\n", r.Tool, r.Phase, r.Outcome, r.Arguments)
		return nil
	})
	mw, err := audit.Middleware(print)
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := mcpkit.MustNewServer(&mcp.Implementation{Name: "demo", Version: "1.0.0"}, mcpkit.WithMiddleware(mw))
	type in struct {
		Name     string `json:"name" jsonschema:"description=Who to greet"`
		Password string `json:"password,omitempty" jsonschema:"description=Never logged"`
	}
	type out struct {
		Greeting string `json:"greeting" jsonschema:"description=The greeting"`
	}
	mcpkit.MustAddTool(srv, mcpkit.Tool{Name: "send_greeting", Description: "Send a greeting.", Policy: mcpkit.Policy{Risk: mcpkit.Write, Public: true}},
		func(_ context.Context, in in) (out, error) { return out{Greeting: "hello " + in.Name}, nil })

	ct, st := mcp.NewInMemoryTransports()
	ss, _ := srv.MCPServer().Connect(context.Background(), st, nil)
	defer ss.Close()
	cs, _ := mcp.NewClient(&mcp.Implementation{Name: "client", Version: "1"}, nil).Connect(context.Background(), ct, nil)
	defer cs.Close()
	_, _ = cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "send_greeting", Arguments: map[string]any{"name": "ada", "password": "hunter2"}})
	// Output:
	// send_greeting phase="start" outcome="" arguments={"name":"ada","password":"[REDACTED]"}
	// send_greeting phase="" outcome="ok" arguments={"name":"ada","password":"[REDACTED]"}
}

func ExampleRedactor() {
	r, err := audit.NewRedactor()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.String("curl -H 'Authorization: Bearer abc.def' https://bob:pw@example.com"))
	fmt.Println(string(r.JSON([]byte(`{"user":"bob","api_key":"k-123","pin":"0000"}`), []string{"pin"})))
	// Output:
	// curl -H 'Authorization: [REDACTED:bearer]' https://[REDACTED:url_password]@example.com
	// {"user":"bob","api_key":"[REDACTED]","pin":"[REDACTED]"}
}
