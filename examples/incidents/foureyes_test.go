package main

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// The attack: with a token file holding the subjects "Alice" and "alice",
// "Alice" approved the call "alice" made (subjects were compared exactly).
// Identity providers differ on case, so the four-eyes rule now treats them
// as one person: the approval is refused and the call does not run.
func TestFourEyesComparesSubjectsCaseInsensitively(t *testing.T) {
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens.json")
	require.NoError(t, os.WriteFile(tokens, []byte(`{
  "dev-upper-alice-0123456789": {"sub": "Alice", "groups": ["sre"], "scopes": ["incidents:read", "incidents:write", "incidents:admin", "incidents:approve"]},
  "dev-lower-alice-0123456789": {"sub": "alice", "groups": ["sre"], "scopes": ["incidents:read", "incidents:write", "incidents:admin", "incidents:approve"]},
  "dev-bob-reviewer-0123456789": {"sub": "bob", "groups": ["sre"], "scopes": ["incidents:read", "incidents:write", "incidents:admin", "incidents:approve"]}
}`), 0o600))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	consoleAddr := ln.Addr().String()
	require.NoError(t, ln.Close())
	base := startHTTP(t, "-tokens", tokens, "-audit", filepath.Join(dir, "audit.jsonl"), "-approver", "console", "-console", consoleAddr)
	console := consoleClient{t: t, addr: consoleAddr}

	caller := connectWithToken(t, base, "dev-lower-alice-0123456789")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan *mcp.CallToolResult, 1)
	go func() {
		res, err := caller.CallTool(ctx, &mcp.CallToolParams{Name: "delete_incident", Arguments: map[string]any{"id": "INC-1001", "reason": "dup"}})
		if err != nil {
			res = &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: err.Error()}}}
		}
		done <- res
	}()
	var id string
	require.Eventually(t, func() bool {
		l := console.list("dev-bob-reviewer-0123456789")
		if len(l.Pending) == 0 {
			return false
		}
		id = l.Pending[0].ID
		return true
	}, 10*time.Second, 10*time.Millisecond, "the call shows up in another reviewer's console")
	// Alice, however spelt, is not shown her own call: she may not decide it.
	assert.Empty(t, console.list("dev-upper-alice-0123456789").Pending, "the caller is shown their own call")

	code, body := console.do("POST", "/api/pending/"+id+"/approve", "dev-upper-alice-0123456789", `{"reason":"lgtm"}`)
	assert.Equal(t, http.StatusForbidden, code, body)
	assert.Contains(t, body, "four eyes")
	select {
	case res := <-done:
		t.Fatalf("the call ended after a self-approval: %s", mcpkittest.Text(res))
	case <-time.After(200 * time.Millisecond):
	}
	cancel()
	<-done
	res, err := caller.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_incident", Arguments: map[string]any{"id": "INC-1001"}})
	require.NoError(t, err)
	assert.False(t, res.IsError, "INC-1001 was not deleted: %s", mcpkittest.Text(res))
}
