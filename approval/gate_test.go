package approval_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

func TestStaticApprovers(t *testing.T) {
	srv, it, rec := newServer(t, approval.AlwaysApprove("dev"))
	cs := mcpkittest.NewHarness(t, srv, mcpkittest.WithClientInfo("alice", "1")).Session
	if res, err := callDelete(t, cs, "a"); err != nil || res.IsError || it.has("a") {
		t.Fatalf("AlwaysApprove: %v %s", err, mcpkittest.Text(res))
	}
	if a := rec.last(t).approval; a.Decision != "approved" || a.Approver != "dev" {
		t.Errorf("record = %+v", a)
	}

	srv, it, rec = newServer(t, approval.AlwaysDeny("approvals are off on this server"))
	cs = mcpkittest.NewHarness(t, srv, mcpkittest.WithClientInfo("alice", "1")).Session
	res, err := callDelete(t, cs, "a")
	if err != nil || mcpkittest.Text(res) != "delete_item was not run: approval was denied by system: approvals are off on this server." || !it.has("a") {
		t.Fatalf("AlwaysDeny: %v %q", err, mcpkittest.Text(res))
	}
	if r := rec.last(t); r.outcome != mcpkit.OutcomeDeniedApproval || r.approval.Decision != "denied" {
		t.Errorf("record = %+v", r)
	}
}

// The policy decides when to ask: a predicate on the typed input.
func TestApprovalWhenPredicate(t *testing.T) {
	srv, it, rec := newServer(t, approval.AlwaysDeny("no"))
	cs := mcpkittest.NewHarness(t, srv, mcpkittest.WithClientInfo("alice", "1")).Session
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "refund_order", Arguments: map[string]any{"order": "o1", "amount_usd": 100}})
	if err != nil || res.IsError || it.runs() != 1 || rec.last(t).approval != nil {
		t.Fatalf("small refund should run without approval: %v %s", err, mcpkittest.Text(res))
	}
	res, err = cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "refund_order", Arguments: map[string]any{"order": "o1", "amount_usd": 900}})
	if err != nil || !res.IsError || it.runs() != 1 {
		t.Fatalf("large refund should be refused: %v %s", err, mcpkittest.Text(res))
	}
}

func TestApproverFailureFailsClosed(t *testing.T) {
	boom := approval.ApproverFunc(func(context.Context, *approval.Request) (approval.Decision, error) {
		return approval.Decision{Verdict: approval.VerdictApproved}, errors.New("db down")
	})
	srv, it, rec := newServer(t, boom)
	cs := mcpkittest.NewHarness(t, srv, mcpkittest.WithClientInfo("alice", "1")).Session
	res, err := callDelete(t, cs, "a")
	if err != nil || !res.IsError || !it.has("a") || strings.Contains(mcpkittest.Text(res), "db down") {
		t.Fatalf("call = %v %q", err, mcpkittest.Text(res))
	}
	r := rec.last(t)
	var de *approval.DeniedError
	if r.approval.Decision != "unavailable" || !errors.As(r.err, &de) || !strings.Contains(de.Error(), "db down") {
		t.Errorf("record = %+v %v", r.approval, r.err)
	}
}

func TestSummaryTemplateAndRedaction(t *testing.T) {
	var seen *approval.Request
	spy := approval.ApproverFunc(func(_ context.Context, r *approval.Request) (approval.Decision, error) {
		seen = r
		return approval.Decision{Verdict: approval.VerdictDenied, Approver: "spy"}, nil
	})
	srv, _, _ := newServer(t, spy, approval.WithSummary("refund_order", "{{.Principal.Subject}} wants to refund ${{.Input.AmountUSD}} on {{.Input.Order}}"))
	cs := mcpkittest.NewHarness(t, srv, mcpkittest.WithClientInfo("alice", "1")).Session
	_, _ = cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "refund_order", Arguments: map[string]any{"order": "o1", "amount_usd": 900}})
	if seen == nil || seen.Summary != "alice wants to refund $900 on o1" || seen.Rule != "when amount_usd > 500" {
		t.Fatalf("request = %+v", seen)
	}
	_, _ = cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "delete_item", Arguments: map[string]any{"id": "a", "secret": "hunter2"}})
	if strings.Contains(string(seen.Arguments), "hunter2") || strings.Contains(seen.Summary, "hunter2") || !strings.Contains(string(seen.Arguments), `"secret":"[REDACTED]"`) {
		t.Errorf("secret reached the approver: %s / %s", seen.Arguments, seen.Summary)
	}
	if _, err := approval.New(spy, approval.WithSummary("x", "{{.Broken")); err == nil {
		t.Error("a broken template was accepted")
	}
}

func TestConstructionErrors(t *testing.T) {
	if _, err := approval.New(nil); err == nil {
		t.Error("New(nil) accepted")
	}
	// Every invalid option is reported, each by name.
	_, err := approval.New(approval.AlwaysDeny("no"), approval.WithTimeout(0), approval.WithRedactor(nil), approval.WithProgressInterval(-1))
	for _, want := range []string{"timeout must be positive", "WithRedactor needs a redactor", "progress interval must be positive"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("New with invalid options: err = %v, want it to say %q", err, want)
		}
	}
	if _, err := approval.NewKeyring(approval.Key{ID: "k", Secret: []byte("short")}); err == nil {
		t.Error("short key accepted")
	}
	if _, err := approval.NewKeyring(); err == nil {
		t.Error("empty keyring accepted")
	}
	if _, err := approval.Elicit(approval.ElicitConfig{}); err == nil {
		t.Error("Elicit without keys accepted")
	}
	if _, err := approval.NewConsole(context.Background(), approval.ConsoleConfig{}); err == nil {
		t.Error("console without authenticator accepted")
	}
	keys, err := approval.ParseKeys("old:" + strings.Repeat("A", 44) + ", new:" + strings.Repeat("B", 44))
	if err != nil || len(keys) != 2 || keys[1].ID != "new" || len(keys[0].Secret) != 33 {
		t.Errorf("ParseKeys = %+v %v", keys, err)
	}
}
