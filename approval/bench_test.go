package approval_test

import (
	"context"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

func benchServer(b *testing.B, opts ...mcpkit.Option) *mcp.ClientSession {
	srv := mcpkit.MustNewServer(&mcp.Implementation{Name: "bench", Version: "1"},
		append(opts, mcpkit.WithDefaultIdentity(mcpkit.Identity{Subject: "alice"}))...)
	mcpkit.MustAddTool(srv, mcpkit.Tool{
		Name: "delete_item", Description: "Delete an item.",
		Policy: mcpkit.Policy{Risk: mcpkit.Destructive, Public: true},
	}, func(_ context.Context, in DeleteIn) (DeleteOut, error) { return DeleteOut{Deleted: in.ID}, nil })
	return mcpkittest.NewHarness(b, srv, mcpkittest.WithClientInfo("alice", "1"), mcpkittest.WithClientOptions(&mcp.ClientOptions{
		ElicitationHandler: func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"confirm": true}}, nil
		},
	})).Session
}

// BenchmarkApproval compares a destructive call without the gate, with the
// gate and a static approver (the gate's own cost), and with in-client
// approval over the 2026-07-28 multi round trip (two calls, sign + verify).
func BenchmarkApproval(b *testing.B) {
	kr, _ := newKeyring(b)
	el := elicitApprover(b, kr, approval.ElicitConfig{})
	cases := []struct {
		name string
		opts []mcpkit.Option
	}{
		{"no-gate", nil},
		{"gate-static-approve", []mcpkit.Option{mcpkit.WithInnerMiddleware(approval.MustNew(approval.AlwaysApprove("bench")))}},
		{"gate-elicit-mrtr", []mcpkit.Option{mcpkit.WithInnerMiddleware(approval.MustNew(el))}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			cs := benchServer(b, tc.opts...)
			ctx := context.Background()
			p := &mcp.CallToolParams{Name: "delete_item", Arguments: map[string]any{"id": "a"}}
			b.ReportAllocs()
			for b.Loop() {
				res, err := cs.CallTool(ctx, p)
				if err != nil || res.IsError {
					b.Fatal(err, res)
				}
			}
		})
	}
}
