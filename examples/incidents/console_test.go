package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/examples/internal/servertest"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// Tokens in testdata/tokens.json for the approval console: carol and erin
// hold incidents:admin and incidents:approve, dave holds incidents:approve
// but not incidents:admin, mallory holds no scope at all.
const (
	carolDevToken   = "dev-carol-0123456789abcdef"
	erinDevToken    = "dev-erin-0123456789abcdef"
	daveDevToken    = "dev-dave-0123456789abcdef"
	malloryDevToken = "dev-mallory-0123456789abcdef"
)

// pastedToken is a credential a caller pasted into an argument.
const pastedToken = "ghp_0123456789abcdefghijABCDEFGHIJ012345"

// consoleClient talks to the approval console at addr.
type consoleClient struct {
	t    *testing.T
	addr string
}

func (c consoleClient) do(method, path, token, body string) (int, string) {
	c.t.Helper()
	req, err := http.NewRequest(method, "http://"+c.addr+path, strings.NewReader(body))
	require.NoError(c.t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

type pendingList struct {
	You     string `json:"you"`
	Pending []struct {
		ID        string          `json:"id"`
		Tool      string          `json:"tool"`
		Arguments json.RawMessage `json:"arguments"`
		Summary   string          `json:"summary"`
	} `json:"pending"`
}

func (c consoleClient) list(token string) pendingList {
	c.t.Helper()
	code, body := c.do("GET", "/api/pending", token, "")
	require.Equal(c.t, http.StatusOK, code, body)
	var l pendingList
	require.NoError(c.t, json.Unmarshal([]byte(body), &l), body)
	return l
}

// The attack of issue #12, over HTTP with the server's own tokens file: a
// user whose token holds no scope at all listed every pending request
// (caller, arguments, a GitHub token the audit file masked) and approved
// another user's delete_incident, which ran. Now the console requires
// incidents:approve plus the tool's scopes: the no-scope user and an
// approver without incidents:admin are refused (403, audited, nothing
// leaked, the incident still there), the caller cannot approve their own
// call, the list shows arguments exactly as the audit file has them, and a
// real approver's decision is on the record under their name.
func TestConsoleOnlyApproversSeeAndDecide(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	consoleAddr := ln.Addr().String()
	require.NoError(t, ln.Close())
	auditFile := filepath.Join(t.TempDir(), "audit.jsonl")
	base := startHTTP(t, "-tokens", "testdata/tokens.json", "-audit", auditFile, "-approver", "console", "-console", consoleAddr)
	console := consoleClient{t: t, addr: consoleAddr}

	carol := connectWithToken(t, base, carolDevToken)
	done := make(chan *mcp.CallToolResult, 1)
	go func() {
		res, err := carol.CallTool(context.Background(), &mcp.CallToolParams{Name: "delete_incident",
			Arguments: map[string]any{"id": "INC-1001", "reason": "duplicate; reproduced with " + pastedToken}})
		if err != nil {
			res = &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: err.Error()}}}
		}
		done <- res
	}()
	var id string
	var shown json.RawMessage
	require.Eventually(t, func() bool {
		l := console.list(erinDevToken)
		if len(l.Pending) == 0 {
			return false
		}
		id, shown = l.Pending[0].ID, l.Pending[0].Arguments
		assert.NotContains(t, l.Pending[0].Summary, pastedToken)
		return true
	}, 10*time.Second, 10*time.Millisecond, "the call shows up in the console for an approver")

	// The no-scope user: refused everywhere, and the refusal leaks nothing.
	for _, tc := range []struct{ method, path, body string }{
		{"GET", "/", ""},
		{"GET", "/api/pending", ""},
		{"POST", "/api/pending/" + id + "/approve", `{"reason":"lgtm"}`},
	} {
		code, body := console.do(tc.method, tc.path, malloryDevToken, tc.body)
		assert.Equal(t, http.StatusForbidden, code, "%s %s as mallory: %s", tc.method, tc.path, body)
		assert.Contains(t, body, "incidents:approve")
		for _, leak := range []string{id, "carol", "INC-1001", "ghp_"} {
			assert.NotContains(t, body, leak, "%s %s as mallory", tc.method, tc.path)
		}
	}
	// An approver without the tool's scope neither sees nor decides it.
	assert.Empty(t, console.list(daveDevToken).Pending, "dave lacks incidents:admin")
	code, body := console.do("POST", "/api/pending/"+id+"/approve", daveDevToken, `{}`)
	assert.Equal(t, http.StatusForbidden, code, body)
	assert.Contains(t, body, "incidents:admin")
	// The caller cannot approve their own call.
	code, body = console.do("POST", "/api/pending/"+id+"/approve", carolDevToken, `{}`)
	assert.Equal(t, http.StatusForbidden, code, body)

	select {
	case res := <-done:
		t.Fatalf("the call ended before an approver decided: %s", mcpkittest.Text(res))
	default:
	}
	alice := connectWithToken(t, base, aliceDevToken)
	res, err := alice.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_incident", Arguments: map[string]any{"id": "INC-1001"}})
	require.NoError(t, err)
	require.False(t, res.IsError, "INC-1001 is still there after the refused approvals: %s", mcpkittest.Text(res))

	assert.NotContains(t, string(shown), pastedToken)
	assert.Contains(t, string(shown), "[REDACTED:github_token]")

	code, body = console.do("POST", "/api/pending/"+id+"/approve", erinDevToken, `{"reason":"confirmed duplicate"}`)
	require.Equal(t, http.StatusOK, code, body)
	res = <-done
	require.False(t, res.IsError, mcpkittest.Text(res))

	var records []audit.Record
	require.Eventually(t, func() bool {
		records = servertest.ReadAudit(t, auditFile)
		for _, r := range records {
			if r.Tool == "delete_incident" && r.Phase == "" && r.Review == nil {
				return true
			}
		}
		return false
	}, 5*time.Second, 20*time.Millisecond, "the call's final record")
	var refused []string
	var approved, final *audit.Record
	for i := range records {
		r := &records[i]
		switch {
		case r.Outcome == audit.OutcomeReviewRefused:
			refused = append(refused, r.Principal.Subject+" "+r.Review.Action)
			assert.Equal(t, http.StatusForbidden, r.Review.Status)
		case r.Outcome == audit.OutcomeReviewApproved:
			approved = r
		case r.Tool == "delete_incident" && r.Phase == "" && r.Review == nil:
			final = r
		}
	}
	assert.Equal(t, []string{"mallory page", "mallory list", "mallory approve", "dave approve", "carol approve"}, refused)
	require.NotNil(t, approved, "the approval is on the record")
	assert.Equal(t, "erin", approved.Principal.Subject)
	assert.Equal(t, "erin@example.com", approved.Principal.Email)
	assert.Equal(t, "carol", approved.Review.Caller)
	assert.Equal(t, id, approved.Review.RequestID)
	assert.Equal(t, "incidents", approved.Server.Name)
	require.NotNil(t, approved.Approval)
	assert.Equal(t, "erin", approved.Approval.Approver)
	assert.Equal(t, "confirmed duplicate", approved.Approval.Reason)
	require.NotNil(t, final)
	assert.Equal(t, "ok", final.Outcome)
	// What the approver was shown is what the audit file holds.
	assert.JSONEq(t, string(final.Arguments), string(shown), "console arguments = audit arguments")
	require.NotNil(t, final.Approval)
	assert.Equal(t, "erin", final.Approval.Approver)
	_, err = servertest.VerifyAudit(t, auditFile)
	assert.NoError(t, err, "the chain verifies")
}
