package approval_test

import (
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// legacyVersion is the newest protocol version on which the server still
// sends elicitation/create itself.
const legacyVersion = "2025-11-25"

// protocols are the two paths every in-client test runs on.
var protocols = []struct {
	name    string
	version string
}{
	{"mrtr-2026-07-28", ""},
	{"legacy-elicitation-create", legacyVersion},
}

// items is the side effect the tools have: a test asserts an item is still
// there after a refused call.
type items struct {
	mu  sync.Mutex
	set map[string]bool
	ran int
}

func newItems(ids ...string) *items {
	it := &items{set: map[string]bool{}}
	for _, id := range ids {
		it.set[id] = true
	}
	return it
}

func (it *items) has(id string) bool {
	it.mu.Lock()
	defer it.mu.Unlock()
	return it.set[id]
}

func (it *items) runs() int {
	it.mu.Lock()
	defer it.mu.Unlock()
	return it.ran
}

type DeleteIn struct {
	ID     string `json:"id" jsonschema:"description=Item id"`
	Secret string `json:"secret,omitempty" jsonschema:"description=A credential that must never be shown" mcpkit:"redact"`
}

type DeleteOut struct {
	Deleted string `json:"deleted" jsonschema:"description=Deleted id"`
}

type RefundIn struct {
	Order     string `json:"order" jsonschema:"description=Order id"`
	AmountUSD int    `json:"amount_usd" jsonschema:"description=Amount in US dollars"`
}

type RefundOut struct {
	Refunded int `json:"refunded" jsonschema:"description=Refunded amount"`
}

// recorder is an outer middleware that keeps every call's approval
// decision and outcome, as the audit record would.
type recorder struct {
	mu    sync.Mutex
	calls []record
	ch    chan record
}

type record struct {
	tool     string
	outcome  mcpkit.Outcome
	approval *mcpkit.ApprovalDecision
	err      error
}

func newRecorder() *recorder { return &recorder{ch: make(chan record, 64)} }

func (r *recorder) middleware(next mcpkit.Handler) mcpkit.Handler {
	return func(ctx context.Context, c *mcpkit.Call) (*mcp.CallToolResult, error) {
		res, err := next(ctx, c)
		rec := record{tool: c.Tool.Name, outcome: c.Outcome(), approval: c.Approval, err: c.Err()}
		r.mu.Lock()
		r.calls = append(r.calls, rec)
		r.mu.Unlock()
		select {
		case r.ch <- rec:
		default:
		}
		return res, err
	}
}

func (r *recorder) last(t *testing.T) record {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.calls) == 0 {
		t.Fatal("no call was recorded")
	}
	return r.calls[len(r.calls)-1]
}

// newServer serves delete_item (destructive: approval by default) and
// refund_order (approval when amount_usd > 500) behind the approval gate.
// The caller's subject is the client's name, so tests can play two
// principals.
func newServer(t testing.TB, a approval.Approver, opts ...approval.Option) (*mcpkit.Server, *items, *recorder) {
	t.Helper()
	it := newItems("a", "b")
	rec := newRecorder()
	srv := mcpkit.MustNewServer(&mcp.Implementation{Name: "test", Version: "1.0.0"},
		mcpkit.WithMiddleware(rec.middleware),
		mcpkit.WithExtraVerbs("refund"),
		mcpkit.WithInnerMiddleware(approval.MustNew(a, opts...)),
		mcpkit.WithIdentityResolver(func(_ context.Context, req mcp.Request) (mcpkit.Identity, error) {
			var ci *mcp.Implementation
			if r, ok := req.(*mcp.CallToolRequest); ok {
				ci = r.ClientInfo()
			}
			if ci == nil || ci.Name == "" {
				return mcpkit.Identity{}, errors.New("no client name")
			}
			return mcpkit.Identity{Subject: ci.Name, AuthMethod: "test"}, nil
		}),
	)
	mcpkit.MustAddTool(srv, mcpkit.Tool{
		Name: "delete_item", Description: "Delete an item.",
		Policy: mcpkit.Policy{Risk: mcpkit.Destructive, Public: true},
	}, func(_ context.Context, in DeleteIn) (DeleteOut, error) {
		it.mu.Lock()
		defer it.mu.Unlock()
		it.ran++
		if !it.set[in.ID] {
			return DeleteOut{}, mcpkit.PublicError("item %s not found", in.ID)
		}
		delete(it.set, in.ID)
		return DeleteOut{Deleted: in.ID}, nil
	})
	mcpkit.MustAddTool(srv, mcpkit.Tool{
		Name: "refund_order", Description: "Refund an order.",
		Policy: mcpkit.Policy{Risk: mcpkit.Write, Public: true,
			Approval: mcpkit.ApprovalWhen("amount_usd > 500", func(in RefundIn) bool { return in.AmountUSD > 500 })},
	}, func(_ context.Context, in RefundIn) (RefundOut, error) {
		it.mu.Lock()
		it.ran++
		it.mu.Unlock()
		return RefundOut{Refunded: in.AmountUSD}, nil
	})
	return srv, it, rec
}

// answering is a harness option whose user answers every elicitation
// with res.
func answering(res *mcp.ElicitResult) mcpkittest.HarnessOption {
	return mcpkittest.WithElicitHandler(func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
		return res, nil
	})
}

func newKeyring(t testing.TB, ids ...string) (*approval.Keyring, []approval.Key) {
	t.Helper()
	if len(ids) == 0 {
		ids = []string{"k1"}
	}
	keys := make([]approval.Key, len(ids))
	for i, id := range ids {
		secret := make([]byte, 32)
		_, _ = rand.Read(secret)
		keys[i] = approval.Key{ID: id, Secret: secret}
	}
	kr, err := approval.NewKeyring(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return kr, keys
}

func elicitApprover(t testing.TB, kr *approval.Keyring, opts approval.ElicitConfig) approval.Approver {
	t.Helper()
	opts.Keys = kr
	a, err := approval.Elicit(opts)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func callDelete(t testing.TB, cs *mcp.ClientSession, id string) (*mcp.CallToolResult, error) {
	t.Helper()
	return cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "delete_item", Arguments: map[string]any{"id": id}})
}

// must returns v, panicking on err: for building values from options a
// test knows to be valid (constructors return their errors).
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
