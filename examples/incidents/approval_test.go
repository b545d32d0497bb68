package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
	"github.com/mcpkit-go/mcpkit/serve"
)

// approvalServer builds the incidents server with args, as main does,
// called by alice in memory.
func approvalServer(t *testing.T, args ...string) (*mcpkit.Server, *Store) {
	t.Helper()
	store, err := NewStore(time.Now)
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := setUp(t, store, mcpkit.Identity{Subject: "alice", Scopes: AllScopes, AuthMethod: "local"}, args...)
	return srv, store
}

func firstID(t *testing.T, store *Store, f Filter, exclude func(Incident) bool) string {
	t.Helper()
	incs, _ := store.List(f, 0, 100)
	for _, inc := range incs {
		if exclude == nil || !exclude(inc) {
			return inc.ID
		}
	}
	t.Fatalf("no incident matches %+v", f)
	return ""
}

func TestApprovalDeleteIncidentInClient(t *testing.T) {
	for _, version := range []string{"", "2025-11-25"} {
		t.Run("protocol="+version, func(t *testing.T) {
			srv, store := approvalServer(t)
			id := firstID(t, store, Filter{}, nil)
			args := map[string]any{"id": id, "reason": "duplicate of another"}

			declining := mcpkittest.NewHarness(t, srv, mcpkittest.WithProtocolVersion(version), mcpkittest.WithElicitDecline()).Session
			res, err := declining.CallTool(context.Background(), &mcp.CallToolParams{Name: "delete_incident", Arguments: args})
			if err != nil || !res.IsError {
				t.Fatalf("declined delete: %v %+v", err, res)
			}
			if _, ok := store.Get(id); !ok {
				t.Fatal("a declined delete removed the incident")
			}

			confirming := mcpkittest.NewHarness(t, srv, mcpkittest.WithProtocolVersion(version), mcpkittest.WithElicitApprove("")).Session
			res, err = confirming.CallTool(context.Background(), &mcp.CallToolParams{Name: "delete_incident", Arguments: args})
			if err != nil || res.IsError {
				t.Fatalf("confirmed delete: %v %+v", err, res)
			}
			if _, ok := store.Get(id); ok {
				t.Fatal("a confirmed delete kept the incident")
			}
		})
	}
}

func TestApprovalResolveSeverityOne(t *testing.T) {
	srv, store := approvalServer(t, "-approver", "deny")
	open := func(inc Incident) bool { return inc.Status == "resolved" }
	sev1 := firstID(t, store, Filter{MaxSeverity: 1}, open)
	minor := firstID(t, store, Filter{}, func(inc Incident) bool { return open(inc) || inc.Severity == 1 })
	cs := mcpkittest.NewHarness(t, srv).Session
	call := func(id string) *mcp.CallToolResult {
		res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "resolve_incident", Arguments: map[string]any{"id": id, "resolution": "rolled back the deploy"}})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := call(minor); res.IsError {
		t.Fatalf("a minor incident needs no approval: %+v", res.Content[0])
	}
	res := call(sev1)
	if !res.IsError || !strings.Contains(res.Content[0].(*mcp.TextContent).Text, "resolve_incident was not run") {
		t.Fatalf("severity 1 resolved without approval: %+v", res)
	}
	if inc, _ := store.Get(sev1); inc.Status == "resolved" {
		t.Fatal("the severity-1 incident was resolved")
	}
}

func TestApprovalConsoleFlag(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	t.Setenv(serverConfig().ApproverTokensEnv(), "bob=bob-token-0123456789 incidents:approve incidents:admin, eve=eve-token-0123456789 incidents:admin")
	srv, store := approvalServer(t, "-approver", "console", "-console", addr)
	id := firstID(t, store, Filter{}, nil)
	cs := mcpkittest.NewHarness(t, srv).Session
	done := make(chan *mcp.CallToolResult, 1)
	go func() {
		res, _ := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "delete_incident", Arguments: map[string]any{"id": id, "reason": "test data"}})
		done <- res
	}()
	get := func(token string) (*http.Response, string) {
		req, _ := http.NewRequest("GET", "http://"+addr+"/api/pending", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	if res, _ := get(""); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("console without a token = %d", res.StatusCode)
	}
	if res, _ := get("eve-token-0123456789"); res.StatusCode != http.StatusForbidden {
		t.Fatalf("console as a reviewer without incidents:approve = %d", res.StatusCode)
	}
	var reqID string
	for deadline := time.Now().Add(5 * time.Second); reqID == "" && time.Now().Before(deadline); {
		_, body := get("bob-token-0123456789")
		if _, after, ok := strings.Cut(body, `"id":"`); ok {
			reqID, _, _ = strings.Cut(after, `"`)
		} else {
			time.Sleep(5 * time.Millisecond)
		}
	}
	if reqID == "" {
		t.Fatal("the call never showed up in the console")
	}
	req, _ := http.NewRequest("POST", "http://"+addr+"/api/pending/"+reqID+"/deny", strings.NewReader(`{"reason":"keep it"}`))
	req.Header.Set("Authorization", "Bearer bob-token-0123456789")
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("deny: %v %v", err, res)
	}
	res.Body.Close()
	if got := <-done; got == nil || !got.IsError {
		t.Fatalf("denied call = %+v", got)
	}
	if _, ok := store.Get(id); !ok {
		t.Fatal("a denied delete removed the incident")
	}
}

func TestApprovalFlagErrors(t *testing.T) {
	newServer := func(cfg serve.Config, args ...string) error {
		cfg.Tools = func(*mcpkit.Server) error { return nil }
		s, err := serve.New(context.Background(), cfg, append([]string{"-audit", filepath.Join(t.TempDir(), "a.jsonl")}, args...), serve.IO{Stderr: io.Discard})
		if s != nil {
			_ = s.Close(context.Background())
		}
		return err
	}
	for _, args := range [][]string{{"-approver", "maybe"}, {"-approver", "console"}} {
		if err := newServer(serverConfig(), args...); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
	// A server without an approver rule refuses to start a console.
	noRule := serverConfig()
	noRule.Approvers = approval.ReviewerRule{}
	for _, args := range [][]string{{"-console", "127.0.0.1:0"}, {"-approver", "console", "-console", "127.0.0.1:0"}} {
		if err := newServer(noRule, args...); err == nil || !strings.Contains(err.Error(), "approver rule") {
			t.Errorf("%v without Approvers: %v", args, err)
		}
	}
	// Reviewer tokens must be well formed.
	t.Setenv(serverConfig().ApproverTokensEnv(), "bob=short incidents:approve")
	if err := newServer(serverConfig(), "-approver", "console", "-console", "127.0.0.1:0"); err == nil || !strings.Contains(err.Error(), "INCIDENTS_APPROVER_TOKENS") {
		t.Errorf("a short reviewer token: %v", err)
	}
}
