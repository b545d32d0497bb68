package approval_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// sharedConsole is one of several consoles sharing a DecisionStore, as the
// replicas of a fleet do.
type sharedConsole struct {
	http    *httptest.Server
	srv     *mcpkit.Server
	items   *items
	pending notified
}

func newSharedConsole(t *testing.T, store approval.Store) *sharedConsole {
	t.Helper()
	sc := &sharedConsole{pending: make(notified, 4)}
	c, err := approval.NewConsole(context.Background(), approval.ConsoleConfig{
		Authenticate: bearer, Reviewers: approvers, Store: store, Notifiers: []approval.Notifier{sc.pending},
	})
	if err != nil {
		t.Fatal(err)
	}
	sc.http = httptest.NewServer(c)
	t.Cleanup(sc.http.Close)
	sc.srv, sc.items, _ = newServer(t, c, approval.WithTimeout(time.Minute))
	return sc
}

func (sc *sharedConsole) post(t *testing.T, token, id, action, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", sc.http.URL+"/api/pending/"+id+"/"+action, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// Consoles sharing a MemoryStore (a DecisionStore) behave as one: a
// decision through either reaches the call waiting on the other, and two
// decisions at once through both yield one: 200, and 409 (decided) or 404
// (decided, and its call already ended). A plain Store
// keeps the old answer, 409 for a call waiting elsewhere.
func TestConsolesSharingADecisionStore(t *testing.T) {
	store := approval.NewMemoryStore()
	a, b := newSharedConsole(t, store), newSharedConsole(t, store)
	cs := mcpkittest.NewHarness(t, a.srv, mcpkittest.WithClientInfo("alice", "1")).Session

	done := start(context.Background(), cs, "a")
	p := <-a.pending
	if code, body := b.post(t, "tok-bob", p.ID, "approve", `{}`); code != http.StatusOK {
		t.Fatalf("approving through the other console = %d %s", code, body)
	}
	if r := <-done; r.err != nil || r.res.IsError || a.items.has("a") {
		t.Fatalf("the call approved through the other console did not run: %v %s", r.err, mcpkittest.Text(r.res))
	}

	done = start(context.Background(), cs, "b")
	p = <-a.pending
	codes := make([]int, 2)
	var wg sync.WaitGroup
	wg.Go(func() { codes[0], _ = a.post(t, "tok-bob", p.ID, "approve", `{}`) })
	wg.Go(func() { codes[1], _ = b.post(t, "tok-carol", p.ID, "deny", `{"reason":"no"}`) })
	wg.Wait()
	lost := func(code int) bool { return code == http.StatusConflict || code == http.StatusNotFound }
	if !(codes[0] == 200 && lost(codes[1])) && !(lost(codes[0]) && codes[1] == 200) {
		t.Errorf("two decisions at once = %v, want one 200 and one 409 or 404", codes)
	}
	r := <-done
	if ran := !a.items.has("b"); ran != (codes[0] == 200) {
		t.Errorf("the call ran = %v, but the approval's answer was %d (%s)", ran, codes[0], mcpkittest.Text(r.res))
	}

	plain := plainStore{approval.NewMemoryStore()}
	c, d := newSharedConsole(t, plain), newSharedConsole(t, plain)
	cs = mcpkittest.NewHarness(t, c.srv, mcpkittest.WithClientInfo("alice", "1")).Session
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done = start(ctx, cs, "a")
	p = <-c.pending
	if code, body := d.post(t, "tok-bob", p.ID, "approve", `{}`); code != http.StatusConflict || !strings.Contains(body, "served by another server") {
		t.Errorf("a plain store: approving a call waiting elsewhere = %d %s, want 409", code, body)
	}
	if code, _ := c.post(t, "tok-bob", p.ID, "approve", `{}`); code != http.StatusOK {
		t.Errorf("a plain store: approving the call where it waits = %d", code)
	}
	<-done
	if c.items.has("a") {
		t.Error("the call approved where it waits did not run")
	}
}
