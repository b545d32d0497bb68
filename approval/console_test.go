package approval_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// approverScope is the scope the tests' console requires of reviewers.
const approverScope = "items:approve"

// approvers is the tests' console rule.
var approvers = approval.ReviewerRule{Scopes: []string{approverScope}}

// tokens is the console's authenticator in these tests: bearer token ->
// identity. alice and bob are approvers, carol is an approver in the
// storage-owners group, mallory is signed in with no scopes at all.
var tokens = map[string]mcpkit.Identity{
	"tok-alice":   {Subject: "alice", Scopes: []string{approverScope}},
	"tok-bob":     {Subject: "bob", Email: "bob@example.com", Scopes: []string{approverScope}},
	"tok-carol":   {Subject: "carol", Groups: []string{"storage-owners"}, Scopes: []string{approverScope}},
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

// notified is a Notifier that hands each pending request to a channel, so
// tests wait for "pending" without polling.
type notified chan approval.Request

func (n notified) Notify(_ context.Context, r approval.Request) error {
	n <- r
	return nil
}

type consoleRig struct {
	console *approval.Console
	http    *httptest.Server
	pending notified
	store   *approval.MemoryStore
	items   *items
	rec     *recorder
	srv     *mcpkit.Server
}

func newConsoleRig(t *testing.T, extra ...approval.Notifier) *consoleRig {
	t.Helper()
	return newConsoleRigWith(t, approval.ConsoleConfig{Notifiers: extra})
}

// newConsoleRigWith serves a console configured by opts, with the tests'
// authenticator, approver rule (unless opts sets one) and store.
func newConsoleRigWith(t *testing.T, opts approval.ConsoleConfig) *consoleRig {
	t.Helper()
	rig := &consoleRig{pending: make(notified, 4), store: approval.NewMemoryStore()}
	opts.Authenticate = bearer
	opts.Store = rig.store
	opts.Notifiers = append([]approval.Notifier{rig.pending}, opts.Notifiers...)
	opts.URL = "https://approvals.example.com"
	if len(opts.Reviewers.Scopes) == 0 && len(opts.Reviewers.Groups) == 0 && !opts.InsecureAnyReviewer {
		opts.Reviewers = approvers
	}
	c, err := approval.NewConsole(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	rig.console = c
	rig.http = httptest.NewServer(c)
	t.Cleanup(rig.http.Close)
	rig.srv, rig.items, rig.rec = newServer(t, c, approval.WithTimeout(time.Minute))
	return rig
}

type callResult struct {
	res *mcp.CallToolResult
	err error
}

// start calls delete_item in the background.
func start(ctx context.Context, cs *mcp.ClientSession, id string) chan callResult {
	ch := make(chan callResult, 1)
	go func() {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "delete_item", Arguments: map[string]any{"id": id}})
		ch <- callResult{res, err}
	}()
	return ch
}

func (rig *consoleRig) do(t *testing.T, method, path, token, contentType, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, rig.http.URL+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return res.StatusCode, m
}

func TestConsoleApprovedByAnotherReviewer(t *testing.T) {
	rig := newConsoleRig(t)
	cs := mcpkittest.NewHarness(t, rig.srv, mcpkittest.WithClientInfo("alice", "1")).Session
	done := start(context.Background(), cs, "a")
	p := <-rig.pending
	if p.Principal.Subject != "alice" || p.Tool != "delete_item" || p.ConsoleURL != "https://approvals.example.com" {
		t.Fatalf("pending = %+v", p)
	}
	code, list := rig.do(t, "GET", "/api/pending", "tok-bob", "", "")
	if code != 200 || list["you"] != "bob" || len(list["pending"].([]any)) != 1 {
		t.Fatalf("list = %d %v", code, list)
	}
	code, body := rig.do(t, "POST", "/api/pending/"+p.ID+"/approve", "tok-bob", "application/json", `{"reason":"change ticket CHG-7"}`)
	if code != 200 || body["decision"] != "approved" {
		t.Fatalf("approve = %d %v", code, body)
	}
	r := <-done
	if r.err != nil || r.res.IsError || rig.items.has("a") {
		t.Fatalf("approved call did not run: %v %s", r.err, mcpkittest.Text(r.res))
	}
	rec := rig.rec.last(t)
	if rec.approval.Decision != "approved" || rec.approval.Approver != "bob" || rec.approval.Reason != "change ticket CHG-7" {
		t.Errorf("record = %+v", rec.approval)
	}
	if code, _ := rig.do(t, "POST", "/api/pending/"+p.ID+"/approve", "tok-bob", "application/json", `{}`); code != http.StatusNotFound {
		t.Errorf("second approval = %d, want 404", code)
	}
}

func TestConsoleDeniedWithReason(t *testing.T) {
	rig := newConsoleRig(t)
	cs := mcpkittest.NewHarness(t, rig.srv, mcpkittest.WithClientInfo("alice", "1")).Session
	done := start(context.Background(), cs, "a")
	p := <-rig.pending
	if code, _ := rig.do(t, "POST", "/api/pending/"+p.ID+"/deny", "tok-alice", "application/json", `{"reason":"wrong item"}`); code != 200 {
		t.Fatalf("deny = %d", code)
	}
	r := <-done
	if r.err != nil || !r.res.IsError || mcpkittest.Text(r.res) != "delete_item was not run: approval was denied by alice: wrong item." {
		t.Fatalf("result = %v %q", r.err, mcpkittest.Text(r.res))
	}
	if !rig.items.has("a") || rig.items.runs() != 0 || rig.rec.last(t).outcome != mcpkit.OutcomeDeniedApproval {
		t.Fatal("the handler ran, or the denial was not recorded")
	}
}

func TestConsoleRefusesBadRequests(t *testing.T) {
	rig := newConsoleRig(t)
	cs := mcpkittest.NewHarness(t, rig.srv, mcpkittest.WithClientInfo("alice", "1")).Session
	ctx, cancel := context.WithCancel(context.Background())
	done := start(ctx, cs, "a")
	p := <-rig.pending
	approve := "/api/pending/" + p.ID + "/approve"
	deny := "/api/pending/" + p.ID + "/deny"
	cases := []struct {
		name, method, path, token, ctype, body string
		want                                   int
		says                                   string
	}{
		{"page without auth", "GET", "/", "", "", "", 401, "authentication required"},
		{"script without auth", "GET", "/console.js", "", "", "", 401, "authentication required"},
		{"list without auth", "GET", "/api/pending", "", "", "", 401, "authentication required"},
		{"approve without auth", "POST", approve, "", "application/json", `{}`, 401, "authentication required"},
		{"approve with a bad token", "POST", approve, "tok-nobody", "application/json", `{}`, 401, "authentication required"},
		{"approve own call", "POST", approve, "tok-alice", "application/json", `{}`, 403, "four eyes"},
		{"approve as a form post", "POST", approve, "tok-bob", "application/x-www-form-urlencoded", `reason=x`, 415, "application/json"},
		{"malformed body", "POST", approve, "tok-bob", "application/json", `{"reason":`, 400, "malformed body"},
		{"unknown field", "POST", approve, "tok-bob", "application/json", `{"decision":"approved"}`, 400, "malformed body"},
		{"reason too long", "POST", approve, "tok-bob", "application/json", `{"reason":"` + strings.Repeat("x", 501) + `"}`, 400, "longer than 500"},
		{"deny without reason", "POST", deny, "tok-bob", "application/json", `{}`, 400, "needs a reason"},
		{"unknown id", "POST", "/api/pending/nope/approve", "tok-bob", "application/json", `{}`, 404, "no pending request"},
		{"wrong method", "GET", approve, "tok-bob", "", "", 405, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := rig.do(t, tc.method, tc.path, tc.token, tc.ctype, tc.body)
			if code != tc.want {
				t.Errorf("status = %d, want %d (%v)", code, tc.want, body)
			}
			if msg, _ := body["error"].(string); !strings.Contains(msg, tc.says) {
				t.Errorf("error = %q, want it to say %q", msg, tc.says)
			}
		})
	}
	select {
	case r := <-done:
		t.Fatalf("the call ended on a bad console request: %v", r)
	default:
	}
	if !rig.items.has("a") {
		t.Fatal("the handler ran")
	}
	cancel()
	<-done
}

func TestConsoleClientDisconnectWhileWaiting(t *testing.T) {
	rig := newConsoleRig(t)
	cs := mcpkittest.NewHarness(t, rig.srv, mcpkittest.WithClientInfo("alice", "1")).Session
	ctx, cancel := context.WithCancel(context.Background())
	done := start(ctx, cs, "a")
	p := <-rig.pending
	cancel() // the client sends notifications/cancelled
	if r := <-done; r.err == nil {
		t.Fatalf("cancelled call returned a result: %s", mcpkittest.Text(r.res))
	}
	rec := <-rig.rec.ch
	if rec.outcome != mcpkit.OutcomeDeniedApproval || rec.approval.Decision != "denied" || !strings.Contains(rec.approval.Reason, "cancelled") {
		t.Fatalf("record = %+v %+v", rec, rec.approval)
	}
	if code, _ := rig.do(t, "POST", "/api/pending/"+p.ID+"/approve", "tok-bob", "application/json", `{}`); code != http.StatusNotFound {
		t.Errorf("approving a gone call = %d, want 404", code)
	}
	if !rig.items.has("a") || rig.items.runs() != 0 {
		t.Fatal("the handler ran")
	}
}

// plainStore hides MemoryStore's decisions: a Store that only lists, as a
// persistent store without decisions would.
type plainStore struct{ approval.Store }

// A restart loses the waiting calls: requests left in a persistent plain
// store are removed when the console starts, and a request listed without
// a waiting call in this process is never approved.
func TestConsoleRestartNeverApproves(t *testing.T) {
	store := plainStore{approval.NewMemoryStore()}
	left := approval.Request{ID: "left-over", Tool: "delete_item", Principal: mcpkit.Identity{Subject: "alice"}, Created: time.Now(), Deadline: time.Now().Add(time.Hour)}
	_ = store.Add(context.Background(), left)
	c, err := approval.NewConsole(context.Background(), approval.ConsoleConfig{Authenticate: bearer, Reviewers: approvers, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	if l, _ := store.List(context.Background()); len(l) != 0 {
		t.Fatalf("stale requests kept: %+v", l)
	}
	h := httptest.NewServer(c)
	defer h.Close()
	post := func(id string) int {
		req, _ := http.NewRequest("POST", h.URL+"/api/pending/"+id+"/approve", strings.NewReader(`{}`))
		req.Header.Set("Authorization", "Bearer tok-bob")
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := post("left-over"); code != http.StatusNotFound {
		t.Errorf("approving a request from before the restart = %d, want 404", code)
	}
	// Listed in a shared store, but no call waits in this process.
	_ = store.Add(context.Background(), left)
	if code := post("left-over"); code != http.StatusConflict {
		t.Errorf("approving a request nobody waits for = %d, want 409", code)
	}
}

func TestConsoleTimeoutWithProgress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, err := approval.NewConsole(context.Background(), approval.ConsoleConfig{Authenticate: bearer, Reviewers: approvers})
		if err != nil {
			t.Fatal(err)
		}
		srv, it, rec := newServer(t, c, approval.WithTimeout(2*time.Minute), approval.WithProgressInterval(30*time.Second))
		var progress atomic.Int32
		var lastMsg atomic.Value
		cs := mcpkittest.NewHarness(t, srv, mcpkittest.WithClientInfo("alice", "1"), mcpkittest.WithClientOptions(&mcp.ClientOptions{
			ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
				progress.Add(1)
				lastMsg.Store(req.Params.Message)
			},
		})).Session
		began := time.Now()
		p := &mcp.CallToolParams{Name: "delete_item", Arguments: map[string]any{"id": "a"}}
		p.SetProgressToken("tok-1")
		res, err := cs.CallTool(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		if waited := time.Since(began); waited != 2*time.Minute {
			t.Errorf("waited %v, want the 2m deadline", waited)
		}
		want := "delete_item was not run: it needs a human's approval and no one approved it within 2m0s; an unanswered approval counts as a denial. Call it again when an approver is available."
		if !res.IsError || mcpkittest.Text(res) != want {
			t.Errorf("result = %q", mcpkittest.Text(res))
		}
		synctest.Wait()
		if n := progress.Load(); n < 3 {
			t.Errorf("got %d progress notifications while waiting, want at least 3", n)
		}
		if msg, _ := lastMsg.Load().(string); !strings.Contains(msg, "waiting for a human to approve delete_item") {
			t.Errorf("progress message = %q", msg)
		}
		if !it.has("a") || it.runs() != 0 {
			t.Fatal("the handler ran after a timeout")
		}
		r := rec.last(t)
		if r.approval.Decision != "timeout" || r.approval.Approver != "system" || r.approval.Latency != 2*time.Minute {
			t.Errorf("record = %+v", r.approval)
		}
		_ = cs.Close()
	})
}

func TestFirstAvailableFallsBackToConsole(t *testing.T) {
	kr, _ := newKeyring(t)
	pending := make(notified, 1)
	c, _ := approval.NewConsole(context.Background(), approval.ConsoleConfig{Authenticate: bearer, Reviewers: approvers, Notifiers: []approval.Notifier{pending}})
	h := httptest.NewServer(c)
	defer h.Close()
	srv, it, _ := newServer(t, approval.FirstAvailable(elicitApprover(t, kr, approval.ElicitConfig{}), c))
	cs := mcpkittest.NewHarness(t, srv, mcpkittest.WithClientInfo("alice", "1")).Session // cannot elicit
	done := start(context.Background(), cs, "a")
	p := <-pending
	req, _ := http.NewRequest("POST", h.URL+"/api/pending/"+p.ID+"/approve", bytes.NewReader([]byte(`{}`)))
	req.Header.Set("Authorization", "Bearer tok-bob")
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("approve: %v %v", err, res)
	}
	res.Body.Close()
	if r := <-done; r.err != nil || r.res.IsError || it.has("a") {
		t.Fatalf("call = %v %s", r.err, mcpkittest.Text(r.res))
	}
}
