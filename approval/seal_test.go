package approval_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// copyingStore is a DecisionStore whose writer keeps the decisions the
// consoles took and hands the last one to the next call that waits, as a
// database writer copying a genuine sealed approval onto another row would.
type copyingStore struct {
	*approval.MemoryStore
	mu   sync.Mutex
	last *approval.Decision
}

func (s *copyingStore) Decide(ctx context.Context, id string, decide func(approval.Request) (approval.Decision, error)) error {
	return s.MemoryStore.Decide(ctx, id, func(r approval.Request) (approval.Decision, error) {
		d, err := decide(r)
		s.mu.Lock()
		s.last = &d
		s.mu.Unlock()
		return d, err
	})
}

func (s *copyingStore) Await(ctx context.Context, id string) (approval.Decision, error) {
	s.mu.Lock()
	copied := s.last
	s.mu.Unlock()
	if copied != nil {
		_ = s.MemoryStore.Remove(ctx, id)
		return *copied, nil
	}
	return s.MemoryStore.Await(ctx, id)
}

// A genuine sealed approval copied onto another request does not let that
// request's call run: the seal names the request it was taken on.
func TestSealedApprovalCopiedToAnotherRequestIsRefused(t *testing.T) {
	kr, _ := newKeyring(t, "k1")
	store := &copyingStore{MemoryStore: approval.NewMemoryStore()}
	pending := make(notified, 4)
	c, err := approval.NewConsole(context.Background(), approval.ConsoleConfig{
		Authenticate: bearer, Reviewers: approvers, Store: store, Keys: kr, Notifiers: []approval.Notifier{pending},
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(c)
	t.Cleanup(hs.Close)
	sc := &sharedConsole{http: hs, pending: pending}
	srv, it, _ := newServer(t, c, approval.WithTimeout(time.Minute))
	cs := mcpkittest.NewHarness(t, srv, mcpkittest.WithClientInfo("alice", "1")).Session

	done := start(context.Background(), cs, "a")
	p := <-pending
	if p.Seal == "" {
		t.Fatal("the request was not sealed")
	}
	if code, body := sc.post(t, "tok-bob", p.ID, "approve", `{}`); code != http.StatusOK {
		t.Fatalf("approve = %d %s", code, body)
	}
	if r := <-done; r.err != nil || r.res.IsError || it.has("a") {
		t.Fatalf("the genuinely approved call did not run: %v %s", r.err, mcpkittest.Text(r.res))
	}

	done = start(context.Background(), cs, "b")
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if !r.res.IsError || !it.has("b") {
		t.Fatalf("a copied approval let another call run: %s", mcpkittest.Text(r.res))
	}
	if txt := mcpkittest.Text(r.res); !strings.Contains(txt, "failed verification") || !strings.Contains(txt, "another request") {
		t.Errorf("the refusal does not say why: %s", txt)
	}
}
