package approval_test

import (
	"context"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/approval"
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
	inClient, _ := approval.Elicit(approval.ElicitOptions{Keys: keys})
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
