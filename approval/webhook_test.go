package approval_test

import (
	"context"
	"encoding/json"
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

func TestWebhookSignedAndRetried(t *testing.T) {
	kr, _ := newKeyring(t, "hook1")
	var mu sync.Mutex
	attempts := 0
	var got approval.WebhookPayload
	var verifyErr error
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		attempts++
		if attempts < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		verifyErr = approval.VerifyWebhook(r.Header, body, kr, time.Minute, time.Now())
		_ = json.Unmarshal(body, &got)
	}))
	defer hook.Close()
	wh, err := approval.NewWebhook(approval.WebhookConfig{URL: hook.URL, Keys: kr, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rig := newConsoleRig(t, wh)
	cs := mcpkittest.NewHarness(t, rig.srv, mcpkittest.WithClientInfo("alice", "1")).Session
	done := start(context.Background(), cs, "a")
	p := <-rig.pending
	// The webhook runs after the first notifier; approve once it is done.
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := attempts
		mu.Unlock()
		if n >= 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if code, _ := rig.do(t, "POST", "/api/pending/"+p.ID+"/approve", "tok-bob", "application/json", `{}`); code != 200 {
		t.Fatalf("approve = %d", code)
	}
	if r := <-done; r.err != nil || r.res.IsError {
		t.Fatalf("call = %v %s", r.err, mcpkittest.Text(r.res))
	}
	mu.Lock()
	defer mu.Unlock()
	if attempts != 3 || verifyErr != nil {
		t.Fatalf("attempts = %d, verify = %v", attempts, verifyErr)
	}
	if got.Type != "approval.pending" || got.Request.ID != p.ID || got.Request.ConsoleURL == "" {
		t.Errorf("payload = %+v", got)
	}
}

func TestWebhookSignatureRejectsTampering(t *testing.T) {
	kr, _ := newKeyring(t, "hook1")
	other, _ := newKeyring(t, "hook1")
	var hdr http.Header
	var body []byte
	hook := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		hdr = r.Header.Clone()
		body, _ = io.ReadAll(r.Body)
	}))
	defer hook.Close()
	wh, _ := approval.NewWebhook(approval.WebhookConfig{URL: hook.URL, Keys: kr})
	if err := wh.Notify(context.Background(), approval.Request{ID: "r1", Tool: "delete_item"}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := approval.VerifyWebhook(hdr, body, kr, time.Minute, now); err != nil {
		t.Fatalf("genuine delivery refused: %v", err)
	}
	for name, check := range map[string]error{
		"altered body": approval.VerifyWebhook(hdr, []byte(strings.Replace(string(body), "r1", "r2", 1)), kr, time.Minute, now),
		"other key":    approval.VerifyWebhook(hdr, body, other, time.Minute, now),
		"stale":        approval.VerifyWebhook(hdr, body, kr, time.Minute, now.Add(2*time.Minute)),
	} {
		if check == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestWebhookDownDeniesCall(t *testing.T) {
	kr, _ := newKeyring(t)
	down := httptest.NewServer(http.NotFoundHandler())
	url := down.URL
	down.Close() // nothing listens there any more
	wh, _ := approval.NewWebhook(approval.WebhookConfig{URL: url, Keys: kr, Attempts: 3, Backoff: time.Millisecond})
	rig := newConsoleRig(t, wh)
	cs := mcpkittest.NewHarness(t, rig.srv, mcpkittest.WithClientInfo("alice", "1")).Session
	done := start(context.Background(), cs, "a")
	<-rig.pending
	r := <-done
	if r.err != nil || !r.res.IsError || !strings.Contains(mcpkittest.Text(r.res), "none could be asked (reviewers could not be notified)") {
		t.Fatalf("call = %v %q", r.err, mcpkittest.Text(r.res))
	}
	if !rig.items.has("a") || rig.items.runs() != 0 {
		t.Fatal("the handler ran")
	}
	if rec := rig.rec.last(t); rec.outcome != mcpkit.OutcomeDeniedApproval || rec.approval.Decision != "unavailable" {
		t.Errorf("record = %+v", rec.approval)
	}
	if l, _ := rig.store.List(context.Background()); len(l) != 0 {
		t.Errorf("request left pending: %+v", l)
	}
}
