package approval_test

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkit"
)

type PurgeIn struct {
	Bucket string `json:"bucket" jsonschema:"description=Bucket to purge"`
}

type PurgeOut struct {
	Purged string `json:"purged" jsonschema:"description=Purged bucket"`
}

// A destructive tool behind the gate: the handler runs only on a yes.
func Example() {
	gate := approval.MustNew(approval.AlwaysDeny("change freeze until Monday"))
	srv := mcpkit.MustNewServer(&mcp.Implementation{Name: "storage", Version: "1.0.0"},
		mcpkit.WithInnerMiddleware(gate),
		mcpkit.WithDefaultIdentity(mcpkit.Identity{Subject: "alice"}))
	ran := false
	mcpkit.MustAddTool(srv, mcpkit.Tool{
		Name: "purge_bucket", Description: "Delete every object in a bucket.",
		Policy: mcpkit.Policy{Risk: mcpkit.Destructive, Public: true},
	}, func(_ context.Context, in PurgeIn) (PurgeOut, error) {
		ran = true
		return PurgeOut{Purged: in.Bucket}, nil
	})

	ctx := context.Background()
	st, ct := mcp.NewInMemoryTransports()
	ss, _ := srv.MCPServer().Connect(ctx, st, nil)
	cs, _ := mcp.NewClient(&mcp.Implementation{Name: "agent", Version: "1"}, nil).Connect(ctx, ct, nil)
	defer func() { cs.Close(); ss.Wait() }()

	res, _ := cs.CallTool(ctx, &mcp.CallToolParams{Name: "purge_bucket", Arguments: map[string]any{"bucket": "logs"}})
	fmt.Println(res.Content[0].(*mcp.TextContent).Text)
	fmt.Println("handler ran:", ran)
	// Output:
	// purge_bucket was not run: approval was denied by system: change freeze until Monday.
	// handler ran: false
}

// In-client approval: the go-sdk client answers the prompt with its
// elicitation handler, and the gate verifies the signed request state.
func ExampleElicit() {
	keys, _ := approval.NewKeyring(approval.Key{ID: "k1", Secret: []byte("0123456789abcdef0123456789abcdef")})
	inClient, _ := approval.Elicit(approval.ElicitConfig{Keys: keys})
	srv := mcpkit.MustNewServer(&mcp.Implementation{Name: "storage", Version: "1.0.0"},
		mcpkit.WithInnerMiddleware(approval.MustNew(inClient)),
		mcpkit.WithDefaultIdentity(mcpkit.Identity{Subject: "alice"}))
	mcpkit.MustAddTool(srv, mcpkit.Tool{
		Name: "purge_bucket", Description: "Delete every object in a bucket.",
		Policy: mcpkit.Policy{Risk: mcpkit.Destructive, Public: true},
	}, func(_ context.Context, in PurgeIn) (PurgeOut, error) {
		return PurgeOut{Purged: in.Bucket}, nil
	})

	ctx := context.Background()
	st, ct := mcp.NewInMemoryTransports()
	ss, _ := srv.MCPServer().Connect(ctx, st, nil)
	client := mcp.NewClient(&mcp.Implementation{Name: "agent", Version: "1"}, &mcp.ClientOptions{
		ElicitationHandler: func(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			fmt.Println(req.Params.Message[:60])
			return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"confirm": true}}, nil
		},
	})
	cs, _ := client.Connect(ctx, ct, nil)
	defer func() { cs.Close(); ss.Wait() }()

	res, _ := cs.CallTool(ctx, &mcp.CallToolParams{Name: "purge_bucket", Arguments: map[string]any{"bucket": "logs"}})
	fmt.Println(res.Content[0].(*mcp.TextContent).Text)
	// Output:
	// Approval needed: alice wants to run purge_bucket with bucket
	// {"purged":"logs"}
}

// approvals is the README's wiring, compiled: in-client approval when the
// client can elicit, else the console, where only reviewers holding
// incidents:approve (and the tool's own scopes) see and decide requests,
// and every refusal and decision is audited under the reviewer's name.
// authenticate is the MCP transport's (transport.RequestAuthenticator), so
// reviewers sign in with the same tokens; secret is 32+ random bytes.
func approvals(ctx context.Context, mux *http.ServeMux, impl *mcp.Implementation, auditor *audit.Auditor,
	authenticate approval.ReviewerResolver, secret []byte) (*mcpkit.Server, *approval.Console, error) {
	keys, err := approval.NewKeyring(approval.Key{ID: "2026-11", Secret: secret}) // oldest first; the last signs
	if err != nil {
		return nil, nil, err
	}
	console, err := approval.NewConsole(ctx, approval.ConsoleConfig{
		Authenticate: authenticate,
		Reviewers:    approval.ReviewerRule{Scopes: []string{"incidents:approve"}, ToolScopes: true},
		OnReview:     approval.AuditReviews(auditor, impl),
		URL:          "https://approvals.example.com/",
	})
	if err != nil {
		return nil, nil, err
	}
	inClient, err := approval.Elicit(approval.ElicitConfig{Keys: keys, Hint: console.Hint()})
	if err != nil {
		return nil, nil, err
	}
	gate, err := approval.New(approval.FirstAvailable(inClient, console),
		approval.WithTimeout(5*time.Minute), approval.WithRedactor(auditor.Redactor()))
	if err != nil {
		return nil, nil, err
	}
	srv, err := mcpkit.NewServer(impl, mcpkit.WithMiddleware(auditor.Middleware()), mcpkit.WithInnerMiddleware(gate))
	if err != nil {
		return nil, nil, err
	}
	mux.Handle("/approvals/", http.StripPrefix("/approvals", console))
	return srv, console, nil
}

// A console needs a rule saying who may approve: signing in is not enough.
func ExampleNewConsole() {
	auditor, err := audit.New(audit.SinkFunc(func(context.Context, *audit.Record) error { return nil }))
	if err != nil {
		fmt.Println(err)
		return
	}
	sso := func(*http.Request) (mcpkit.Identity, error) { return mcpkit.Identity{Subject: "bob"}, nil }
	_, err = approval.NewConsole(context.Background(), approval.ConsoleConfig{Authenticate: sso})
	fmt.Println(err != nil)
	_, console, err := approvals(context.Background(), http.NewServeMux(), &mcp.Implementation{Name: "incidents", Version: "1.0.0"},
		auditor, sso, []byte("0123456789abcdef0123456789abcdef"))
	fmt.Println(err, console.Hint())
	// Output:
	// true
	// <nil> Ask an approver to approve it at https://approvals.example.com/, then call the tool again.
}
