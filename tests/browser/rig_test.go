package browser_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// approverScope is the scope the console requires of reviewers here.
const approverScope = "items:approve"

// tokens is the console's authenticator: bearer token -> identity. alice
// and bob are approvers, mallory is signed in with no scopes at all.
var tokens = map[string]mcpkit.Identity{
	"tok-alice":   {Subject: "alice", Scopes: []string{approverScope}},
	"tok-bob":     {Subject: "bob", Email: "bob@example.com", Scopes: []string{approverScope}},
	"tok-mallory": {Subject: "mallory"},
}

func bearer(r *http.Request) (mcpkit.Identity, error) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if id, found := tokens[tok]; ok && found {
		id.AuthMethod = "static"
		return id, nil
	}
	return mcpkit.Identity{}, errors.New("no valid token")
}

// notified hands each pending request to a channel, so a test waits for
// "pending" without polling.
type notified chan approval.Request

func (n notified) Notify(_ context.Context, r approval.Request) error {
	n <- r
	return nil
}

// rig is a console served on loopback in front of a server whose one tool,
// delete_item, is destructive and so needs approval.
type rig struct {
	http    *httptest.Server
	pending notified
	srv     *mcpkit.Server

	mu       sync.Mutex
	items    map[string]bool
	decision *mcpkit.ApprovalDecision
}

type DeleteIn struct {
	ID string `json:"id" jsonschema:"description=Item id"`
}

type DeleteOut struct {
	Deleted string `json:"deleted" jsonschema:"description=Deleted id"`
}

func newConsoleRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{pending: make(notified, 4), items: map[string]bool{"a": true}}
	c, err := approval.NewConsole(context.Background(), approval.ConsoleConfig{
		Authenticate: bearer,
		Store:        approval.NewMemoryStore(),
		Notifiers:    []approval.Notifier{r.pending},
		URL:          "https://approvals.example.com",
		Reviewers:    approval.ReviewerRule{Scopes: []string{approverScope}},
	})
	if err != nil {
		t.Fatal(err)
	}
	r.http = httptest.NewServer(c)
	t.Cleanup(r.http.Close)
	gate, err := approval.New(c, approval.WithTimeout(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	r.srv, err = mcpkit.NewServer(&mcp.Implementation{Name: "test", Version: "1.0.0"},
		mcpkit.WithMiddleware(r.record),
		mcpkit.WithInnerMiddleware(gate),
		mcpkit.WithIdentityResolver(func(_ context.Context, req mcp.Request) (mcpkit.Identity, error) {
			var ci *mcp.Implementation
			if cr, ok := req.(*mcp.CallToolRequest); ok {
				ci = cr.ClientInfo()
			}
			if ci == nil || ci.Name == "" {
				return mcpkit.Identity{}, errors.New("no client name")
			}
			return mcpkit.Identity{Subject: ci.Name, AuthMethod: "test"}, nil
		}),
	)
	if err != nil {
		t.Fatal(err)
	}
	err = mcpkit.AddTool(r.srv, mcpkit.Tool{
		Name: "delete_item", Description: "Delete an item.",
		Policy: mcpkit.Policy{Risk: mcpkit.Destructive, Public: true},
	}, func(_ context.Context, in DeleteIn) (DeleteOut, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		if !r.items[in.ID] {
			return DeleteOut{}, mcpkit.PublicError("item %s not found", in.ID)
		}
		delete(r.items, in.ID)
		return DeleteOut{Deleted: in.ID}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// record keeps the last call's approval decision, as the audit record would.
func (r *rig) record(next mcpkit.Handler) mcpkit.Handler {
	return func(ctx context.Context, c *mcpkit.Call) (*mcp.CallToolResult, error) {
		res, err := next(ctx, c)
		r.mu.Lock()
		r.decision = c.Approval
		r.mu.Unlock()
		return res, err
	}
}

func (r *rig) has(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.items[id]
}

func (r *rig) lastDecision() *mcpkit.ApprovalDecision {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.decision
}

type callResult struct {
	res *mcp.CallToolResult
	err error
}

// start calls delete_item as subject in the background.
func (r *rig) start(t *testing.T, subject, id string) chan callResult {
	t.Helper()
	ctx := context.Background()
	cs := mcpkittest.NewHarness(t, r.srv, mcpkittest.WithClientInfo(subject, "1")).Session
	ch := make(chan callResult, 1)
	go func() {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "delete_item", Arguments: map[string]any{"id": id}})
		ch <- callResult{res, err}
	}()
	return ch
}
