package approval_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

type ledgerRef struct {
	Account string `json:"account" jsonschema:"description=Account number,pattern=^[0-9]+$"`
}

// A resource whose policy asks for approval is read only once an approver
// says yes: a no refuses the read (denied_approval) without running it,
// and the approver sees the resource and its decoded variables.
func TestResourceNeedingApprovalIsReadOnlyOnceApproved(t *testing.T) {
	var verdict atomic.Value
	verdict.Store(approval.VerdictDenied)
	var asked atomic.Value
	approver := approval.ApproverFunc(func(_ context.Context, r *approval.Request) (approval.Decision, error) {
		asked.Store(*r)
		return approval.Decision{Verdict: verdict.Load().(approval.Verdict), Approver: "carol", At: time.Now()}, nil
	})
	var last atomic.Pointer[mcpkit.Call]
	srv, err := mcpkit.NewServer(&mcp.Implementation{Name: "ledger", Version: "1"},
		mcpkit.WithMiddleware(func(next mcpkit.Handler) mcpkit.Handler {
			return func(ctx context.Context, c *mcpkit.Call) (*mcp.CallToolResult, error) {
				res, err := next(ctx, c)
				last.Store(c)
				return res, err
			}
		}),
		mcpkit.WithInnerMiddleware(approval.MustNew(approver)))
	require.NoError(t, err)
	var runs atomic.Int64
	require.NoError(t, mcpkit.AddResourceTemplate(srv, mcpkit.ResourceTemplate{URITemplate: "ledger://{account}", Name: "ledger",
		Description: "An account's ledger.", Policy: mcpkit.Policy{Public: true, Approval: mcpkit.ApprovalAlways()}},
		func(_ context.Context, in ledgerRef) ([]*mcp.ResourceContents, error) {
			runs.Add(1)
			return []*mcp.ResourceContents{{Text: "ledger of " + in.Account}}, nil
		}))
	cs := mcpkittest.NewHarness(t, srv, mcpkittest.WithIdentity(mcpkit.Identity{Subject: "alice", AuthMethod: "local"})).Session
	ctx := context.Background()

	_, err = cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "ledger://42"})
	var we *jsonrpc.Error
	require.True(t, errors.As(err, &we), "%v", err)
	assert.Equal(t, mcpkit.RefusedRPCCode, we.Code)
	assert.JSONEq(t, `{"outcome":"denied_approval"}`, string(we.Data))
	assert.Equal(t, mcpkit.OutcomeDeniedApproval, last.Load().Outcome())
	assert.Zero(t, runs.Load(), "a read nobody approved does not run")
	req := asked.Load().(approval.Request)
	assert.Equal(t, "ledger", req.Tool)
	assert.JSONEq(t, `{"account":"42"}`, string(req.Arguments))

	verdict.Store(approval.VerdictApproved)
	got, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "ledger://42"})
	require.NoError(t, err)
	assert.Equal(t, "ledger of 42", got.Contents[0].Text)
	require.NotNil(t, last.Load().Approval)
	assert.Equal(t, "carol", last.Load().Approval.Approver)
	assert.Equal(t, int64(1), runs.Load())
}
