package approval_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// ghToken is a credential a caller pasted into an argument: the audit
// redactor masks its shape, so the console must too.
const ghToken = "ghp_0123456789abcdefghijABCDEFGHIJ012345"

// auditLog is an audit sink in memory.
type auditLog struct {
	mu   sync.Mutex
	recs []audit.Record
	fail bool
}

func (l *auditLog) Write(_ context.Context, r *audit.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail {
		return errors.New("disk full")
	}
	l.recs = append(l.recs, *r)
	return nil
}

func (l *auditLog) records() []audit.Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]audit.Record(nil), l.recs...)
}

func (l *auditLog) setFail(v bool) {
	l.mu.Lock()
	l.fail = v
	l.mu.Unlock()
}

// auditedRig is a console whose events go to an audit log.
func auditedRig(t *testing.T, opts approval.ConsoleConfig) (*consoleRig, *auditLog) {
	t.Helper()
	log := &auditLog{}
	opts.OnReview = approval.AuditReviews(must(audit.New(log)), &mcp.Implementation{Name: "items", Version: "1.0.0"})
	return newConsoleRigWith(t, opts), log
}

func (rig *consoleRig) raw(t *testing.T, method, path, token, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, rig.http.URL+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// The attack of issue #12: a user signed in with no scopes at all listed
// every pending request (caller, arguments) and approved another user's
// destructive call. Now every console route refuses them with 403, leaks
// nothing, runs nothing, and each refusal is audited under their name.
func TestConsoleRefusesSignedInUserWithoutApproverScope(t *testing.T) {
	rig, log := auditedRig(t, approval.ConsoleConfig{})
	cs := mcpkittest.NewHarness(t, rig.srv, mcpkittest.WithClientInfo("alice", "1")).Session
	ctx, cancel := context.WithCancel(context.Background())
	done := start(ctx, cs, "a")
	p := <-rig.pending

	for _, tc := range []struct{ method, path, body string }{
		{"GET", "/", ""},
		{"GET", "/console.js", ""},
		{"GET", "/api/pending", ""},
		{"POST", "/api/pending/" + p.ID + "/approve", `{"reason":"lgtm"}`},
		{"POST", "/api/pending/" + p.ID + "/deny", `{"reason":"no"}`},
	} {
		code, body := rig.raw(t, tc.method, tc.path, "tok-mallory", tc.body)
		if code != http.StatusForbidden || !strings.Contains(body, "requires scope "+approverScope) {
			t.Errorf("%s %s as mallory = %d %s, want 403 naming the approver scope", tc.method, tc.path, code, body)
		}
		for _, leak := range []string{p.ID, "alice", "delete_item", `"a"`} {
			if strings.Contains(body, leak) {
				t.Errorf("%s %s: the refusal leaks %q: %s", tc.method, tc.path, leak, body)
			}
		}
	}
	select {
	case r := <-done:
		t.Fatalf("the call ended on a refused reviewer: %v %s", r.err, mcpkittest.Text(r.res))
	default:
	}
	if !rig.items.has("a") || rig.items.runs() != 0 {
		t.Fatal("the handler ran on a refused reviewer's approval")
	}
	recs := log.records()
	if len(recs) != 5 {
		t.Fatalf("got %d audit records for 5 refusals: %+v", len(recs), recs)
	}
	for _, r := range recs {
		if r.Outcome != audit.OutcomeReviewRefused || r.Principal.Subject != "mallory" || r.Review == nil || r.Review.Status != 403 ||
			!strings.Contains(r.Error, "requires scope "+approverScope) || r.Approval != nil || r.Server.Name != "items" {
			t.Errorf("refusal record = %+v review %+v", r, r.Review)
		}
	}
	if a := recs[3]; a.Review.Action != "approve" || a.Review.RequestID != p.ID {
		t.Errorf("approve refusal record = %+v", a.Review)
	}
	// A real approver still can.
	if code, _ := rig.do(t, "POST", "/api/pending/"+p.ID+"/approve", "tok-bob", "application/json", `{}`); code != 200 {
		t.Fatalf("approver = %d", code)
	}
	if r := <-done; r.err != nil || r.res.IsError || rig.items.has("a") {
		t.Fatalf("call = %v %s", r.err, mcpkittest.Text(r.res))
	}
	cancel()
}

// Decisions are on the audit record under the reviewer's name, with the
// request and whose call it was; refusing to let a caller approve their own
// call is audited too.
func TestConsoleDecisionsAreAuditedWithTheReviewer(t *testing.T) {
	rig, log := auditedRig(t, approval.ConsoleConfig{})
	cs := mcpkittest.NewHarness(t, rig.srv, mcpkittest.WithClientInfo("alice", "1")).Session
	done := start(context.Background(), cs, "a")
	p := <-rig.pending
	if code, _ := rig.do(t, "POST", "/api/pending/"+p.ID+"/approve", "tok-alice", "application/json", `{}`); code != 403 {
		t.Fatalf("self approval = %d", code)
	}
	if code, _ := rig.do(t, "POST", "/api/pending/"+p.ID+"/approve", "tok-bob", "application/json", `{"reason":"CHG-7"}`); code != 200 {
		t.Fatalf("approve = %d", code)
	}
	if r := <-done; r.err != nil || r.res.IsError {
		t.Fatalf("call = %v %s", r.err, mcpkittest.Text(r.res))
	}
	if code, _ := rig.do(t, "POST", "/api/pending/"+p.ID+"/approve", "tok-carol", "application/json", `{}`); code != 404 {
		t.Fatalf("late approval = %d", code)
	}
	done = start(context.Background(), cs, "b")
	q := <-rig.pending
	if code, _ := rig.do(t, "POST", "/api/pending/"+q.ID+"/deny", "tok-carol", "application/json", `{"reason":"not today"}`); code != 200 {
		t.Fatalf("deny = %d", code)
	}
	<-done
	if code, _ := rig.do(t, "GET", "/api/pending", "", "", ""); code != 401 {
		t.Fatalf("anonymous list = %d", code)
	}

	recs := log.records()
	if len(recs) != 5 {
		t.Fatalf("got %d records, want 5: %+v", len(recs), recs)
	}
	want := []struct {
		outcome, reviewer, action, decision, reason, id string
		status                                          int
	}{
		{audit.OutcomeReviewRefused, "alice", "approve", "", "", p.ID, 403},
		{audit.OutcomeReviewApproved, "bob", "approve", "approved", "CHG-7", p.ID, 200},
		{audit.OutcomeReviewNotWaiting, "carol", "approve", "", "", p.ID, 404},
		{audit.OutcomeReviewDenied, "carol", "deny", "denied", "not today", q.ID, 200},
	}
	// Anonymous refusals go through Auditor.Refused, aggregated per source.
	if r := recs[4]; r.Outcome != audit.OutcomeUnauthenticated || r.Principal.Subject != "" || r.Source == "" ||
		!strings.Contains(r.Error, "HTTP 401") || !strings.Contains(r.Error, "approval console list") {
		t.Errorf("anonymous record = %+v", r)
	}
	for i, w := range want {
		r := recs[i]
		if r.Outcome != w.outcome || r.Principal.Subject != w.reviewer || r.Review == nil || r.Review.Action != w.action ||
			r.Review.Status != w.status || r.Review.RequestID != w.id {
			t.Errorf("record %d = %s by %q %+v, want %+v", i, r.Outcome, r.Principal.Subject, r.Review, w)
			continue
		}
		if w.decision != "" && (r.Approval == nil || r.Approval.Approver != w.reviewer || r.Approval.Decision != w.decision || r.Approval.Reason != w.reason) {
			t.Errorf("record %d approval = %+v", i, r.Approval)
		}
		if w.decision == "" && r.Approval != nil {
			t.Errorf("record %d: a refusal carries a decision: %+v", i, r.Approval)
		}
	}
	if r := recs[1]; r.Tool != "delete_item" || r.Review.Caller != "alice" || r.Principal.Email != "bob@example.com" || string(r.Arguments) != `{"id":"a"}` {
		t.Errorf("approval record = %+v %s", r, r.Arguments)
	}
	if r := recs[0]; !strings.Contains(r.Error, "own call") {
		t.Errorf("self-approval record error = %q", r.Error)
	}
	// The call's own record names the approver the console recorded.
	rig.rec.mu.Lock()
	first := rig.rec.calls[0]
	rig.rec.mu.Unlock()
	if a := first.approval; a == nil || a.Approver != "bob" {
		t.Errorf("call record approval = %+v", a)
	}
}

// An approval that cannot be put on the audit record is not applied: the
// call is refused and the handler does not run.
func TestConsoleDecisionNotRecordedIsNotApplied(t *testing.T) {
	rig, log := auditedRig(t, approval.ConsoleConfig{})
	cs := mcpkittest.NewHarness(t, rig.srv, mcpkittest.WithClientInfo("alice", "1")).Session
	done := start(context.Background(), cs, "a")
	p := <-rig.pending
	log.setFail(true)
	code, body := rig.do(t, "POST", "/api/pending/"+p.ID+"/approve", "tok-bob", "application/json", `{}`)
	if code != http.StatusServiceUnavailable || !strings.Contains(body["error"].(string), "not applied") {
		t.Fatalf("approve with the audit log down = %d %v", code, body)
	}
	r := <-done
	if r.err != nil || !r.res.IsError || !strings.Contains(mcpkittest.Text(r.res), "could not be recorded") {
		t.Fatalf("call = %v %s", r.err, mcpkittest.Text(r.res))
	}
	if !rig.items.has("a") || rig.items.runs() != 0 {
		t.Fatal("the handler ran on an unrecorded approval")
	}
	if a := rig.rec.last(t).approval; a.Decision != "unavailable" || a.Approver != "system" {
		t.Errorf("call record approval = %+v", a)
	}
}

// A per-tool rule narrows who sees and decides that tool's requests.
func TestConsoleToolReviewersNarrow(t *testing.T) {
	rig, log := auditedRig(t, approval.ConsoleConfig{
		ToolReviewers: map[string]approval.ReviewerRule{"delete_item": {Groups: []string{"storage-owners"}}},
	})
	cs := mcpkittest.NewHarness(t, rig.srv, mcpkittest.WithClientInfo("alice", "1")).Session
	done := start(context.Background(), cs, "a")
	p := <-rig.pending

	_, list := rig.do(t, "GET", "/api/pending", "tok-bob", "", "")
	if n := len(list["pending"].([]any)); n != 0 {
		t.Errorf("bob, outside storage-owners, sees %d delete_item requests", n)
	}
	code, body := rig.do(t, "POST", "/api/pending/"+p.ID+"/approve", "tok-bob", "application/json", `{}`)
	if code != 403 || !strings.Contains(body["error"].(string), "storage-owners") {
		t.Fatalf("bob approves = %d %v", code, body)
	}
	if !rig.items.has("a") {
		t.Fatal("the handler ran")
	}
	_, list = rig.do(t, "GET", "/api/pending", "tok-carol", "", "")
	if n := len(list["pending"].([]any)); n != 1 {
		t.Fatalf("carol sees %d requests, want 1", n)
	}
	if code, _ := rig.do(t, "POST", "/api/pending/"+p.ID+"/approve", "tok-carol", "application/json", `{}`); code != 200 {
		t.Fatalf("carol approves = %d", code)
	}
	if r := <-done; r.err != nil || r.res.IsError || rig.items.has("a") {
		t.Fatalf("call = %v %s", r.err, mcpkittest.Text(r.res))
	}
	if recs := log.records(); len(recs) != 2 || recs[0].Outcome != audit.OutcomeReviewRefused || recs[0].Principal.Subject != "bob" ||
		recs[1].Outcome != audit.OutcomeReviewApproved || recs[1].Principal.Subject != "carol" {
		t.Errorf("records = %+v", recs)
	}
}

// The pending list and the notification show the arguments exactly as the
// audit record has them: a credential-shaped value the audit file masks is
// masked in the console too (it used to be shown in clear).
func TestConsolePendingArgumentsRedactedLikeTheAuditRecord(t *testing.T) {
	rig := newConsoleRig(t)
	cs := mcpkittest.NewHarness(t, rig.srv, mcpkittest.WithClientInfo("alice", "1")).Session
	args := map[string]any{"id": "a " + ghToken, "secret": "hunter2"}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "delete_item", Arguments: args})
	}()
	p := <-rig.pending
	code, body := rig.raw(t, "GET", "/api/pending", "tok-bob", "")
	if code != 200 {
		t.Fatalf("list = %d %s", code, body)
	}
	for _, secret := range []string{ghToken, "hunter2"} {
		if strings.Contains(body, secret) || strings.Contains(string(p.Arguments), secret) || strings.Contains(p.Summary, secret) {
			t.Errorf("%s reached the reviewer: %s / notified %s / %s", secret, body, p.Arguments, p.Summary)
		}
	}
	var list struct {
		Pending []approval.Request `json:"pending"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil || len(list.Pending) != 1 {
		t.Fatalf("list = %s %v", body, err)
	}
	raw, _ := json.Marshal(args)
	var paths []string
	for _, tool := range rig.srv.Tools() {
		if tool.Name == "delete_item" {
			paths = tool.Redact
		}
	}
	want := must(audit.NewRedactor()).JSON(raw, paths)
	if got := string(list.Pending[0].Arguments); got != string(want) {
		t.Errorf("console arguments = %s\naudit arguments   = %s", got, want)
	}
	if !strings.Contains(string(want), "[REDACTED:github_token]") {
		t.Errorf("the audit redactor did not mask the token: %s", want)
	}
	if code, _ := rig.do(t, "POST", "/api/pending/"+p.ID+"/deny", "tok-bob", "application/json", `{"reason":"no"}`); code != 200 {
		t.Fatalf("deny = %d", code)
	}
	<-done
}

func TestConsoleNeedsAReviewerRule(t *testing.T) {
	ctx := context.Background()
	for name, opts := range map[string]approval.ConsoleConfig{
		"no rule":              {Authenticate: bearer},
		"only tool scopes":     {Authenticate: bearer, Reviewers: approval.ReviewerRule{ToolScopes: true}},
		"empty scope":          {Authenticate: bearer, Reviewers: approval.ReviewerRule{Scopes: []string{" "}}},
		"empty group":          {Authenticate: bearer, Reviewers: approval.ReviewerRule{Scopes: []string{"x"}, Groups: []string{""}}},
		"rule and insecure":    {Authenticate: bearer, Reviewers: approvers, InsecureAnyReviewer: true},
		"tool rule empty":      {Authenticate: bearer, Reviewers: approvers, ToolReviewers: map[string]approval.ReviewerRule{"delete_item": {}}},
		"tool rule no name":    {Authenticate: bearer, Reviewers: approvers, ToolReviewers: map[string]approval.ReviewerRule{"": {Scopes: []string{"x"}}}},
		"tool rule bad scope":  {Authenticate: bearer, Reviewers: approvers, ToolReviewers: map[string]approval.ReviewerRule{"t": {Scopes: []string{""}}}},
		"no authenticator too": {Reviewers: approvers},
	} {
		if _, err := approval.NewConsole(ctx, opts); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	_, err := approval.NewConsole(ctx, approval.ConsoleConfig{Authenticate: bearer})
	if err == nil || !strings.Contains(err.Error(), "Reviewers") || !strings.Contains(err.Error(), "InsecureAnyReviewer") {
		t.Errorf("error without a rule = %v, want it to name Reviewers and the opt-out", err)
	}
}

// InsecureAnyReviewer is the explicit opt-out: any signed-in user may
// decide, still never their own call.
func TestConsoleInsecureAnyReviewer(t *testing.T) {
	rig := newConsoleRigWith(t, approval.ConsoleConfig{InsecureAnyReviewer: true})
	cs := mcpkittest.NewHarness(t, rig.srv, mcpkittest.WithClientInfo("alice", "1")).Session
	done := start(context.Background(), cs, "a")
	p := <-rig.pending
	if code, _ := rig.do(t, "POST", "/api/pending/"+p.ID+"/approve", "tok-alice", "application/json", `{}`); code != 403 {
		t.Errorf("self approval = %d", code)
	}
	if code, _ := rig.do(t, "POST", "/api/pending/"+p.ID+"/approve", "tok-mallory", "application/json", `{}`); code != 200 {
		t.Fatalf("any reviewer = %d", code)
	}
	if r := <-done; r.err != nil || r.res.IsError {
		t.Fatalf("call = %v %s", r.err, mcpkittest.Text(r.res))
	}
}

// Anonymous requests cannot fill the audit log: they are aggregated per
// source like the transport's refusals.
func TestConsoleAnonymousFloodIsAggregated(t *testing.T) {
	rig, log := auditedRig(t, approval.ConsoleConfig{})
	for range 50 {
		if code, _ := rig.raw(t, "GET", "/api/pending", "", ""); code != http.StatusUnauthorized {
			t.Fatalf("anonymous = %d", code)
		}
	}
	if n := len(log.records()); n == 0 || n > 2 {
		t.Errorf("50 anonymous requests left %d records, want the first one and at most one summary", n)
	}
}
