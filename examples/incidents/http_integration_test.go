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
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/examples/internal/servertest"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// TestHTTPRefusalsAreAudited: requests the transport refuses before they
// reach the server (no token, a bad token, a scope the token lacks) are in
// the audit file, and the chain still verifies.
func TestHTTPRefusalsAreAudited(t *testing.T) {
	auditFile := filepath.Join(t.TempDir(), "audit.jsonl")
	base := startHTTP(t, "-tokens", "testdata/tokens.json", "-audit", auditFile)

	post := func(token, body string) int {
		req, err := http.NewRequest(http.MethodPost, base+"/mcp", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	initialize := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	assert.Equal(t, http.StatusUnauthorized, post("", initialize))
	assert.Equal(t, http.StatusUnauthorized, post("not-a-token-we-issued", initialize))
	deleteCall := `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"delete_incident","arguments":{"id":"INC-1001","reason":"dup"}}}`
	assert.Equal(t, http.StatusForbidden, post(bobDevToken, deleteCall))

	var records []audit.Record
	require.Eventually(t, func() bool {
		records = servertest.ReadAudit(t, auditFile)
		return len(records) >= 3
	}, 5*time.Second, 50*time.Millisecond, "the refusals reach the audit file")
	assert.Equal(t, "unauthenticated", records[0].Outcome)
	assert.Equal(t, "unauthenticated", records[1].Outcome)
	assert.NotContains(t, records[1].Error, "not-a-token-we-issued")
	assert.Equal(t, "denied_scope", records[2].Outcome)
	assert.Equal(t, "bob", records[2].Principal.Subject)
	assert.Equal(t, "delete_incident", records[2].Tool)
	assert.Equal(t, "incidents", records[2].Server.Name)
	_, err := servertest.VerifyAudit(t, auditFile)
	assert.NoError(t, err, "the chain verifies")
}

// TestNoAuthIsExplicitLoopbackOnlyAndAnnounced: -no-auth serves a fixed
// development identity on loopback and says so on stderr.
func TestNoAuthIsExplicitLoopbackOnlyAndAnnounced(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	var stderr servertest.SyncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-http", addr, "-no-auth", "-audit", filepath.Join(t.TempDir(), "a.jsonl")}, strings.NewReader(""), io.Discard, &stderr)
	}()
	defer func() {
		cancel()
		assert.NoError(t, <-done)
	}()
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK
	}, 10*time.Second, 20*time.Millisecond)
	assert.Contains(t, stderr.String(), "WARNING: -no-auth")

	cs, err := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1"}, nil).
		Connect(ctx, &mcp.StreamableClientTransport{Endpoint: "http://" + addr + "/mcp"}, nil)
	require.NoError(t, err)
	defer cs.Close()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "resolve_incident", Arguments: map[string]any{"id": "INC-1002", "resolution": "fixed it"}})
	require.NoError(t, err)
	require.False(t, res.IsError, mcpkittest.Text(res))
	assert.Contains(t, mcpkittest.Text(res), "Resolved by dev-no-auth", "the fixed development identity reaches the handler")
}

// TestConsoleAcceptsTheTransportsCredentials: with -http, reviewers sign in
// to the approval console with the same tokens as MCP callers (and need
// incidents:approve).
func TestConsoleAcceptsTheTransportsCredentials(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	consoleAddr := ln.Addr().String()
	require.NoError(t, ln.Close())
	startHTTP(t, "-tokens", "testdata/tokens.json", "-approver", "console", "-console", consoleAddr)
	get := func(token string) int {
		req, _ := http.NewRequest(http.MethodGet, "http://"+consoleAddr+"/api/pending", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusOK, get(carolDevToken))
	assert.Equal(t, http.StatusForbidden, get(aliceDevToken), "alice is signed in but not an approver")
	assert.Equal(t, http.StatusUnauthorized, get(""))
	assert.Equal(t, http.StatusUnauthorized, get("not-a-token-we-issued"))
}

// TestAuditRecordsCarryTheRequestID: over HTTP the JSON-RPC id of each call
// reaches its audit record.
func TestAuditRecordsCarryTheRequestID(t *testing.T) {
	auditFile := filepath.Join(t.TempDir(), "audit.jsonl")
	base := startHTTP(t, "-tokens", "testdata/tokens.json", "-audit", auditFile)
	cs := connectWithToken(t, base, aliceDevToken)
	for range 2 {
		res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_incident", Arguments: map[string]any{"id": "INC-1001"}})
		require.NoError(t, err)
		require.False(t, res.IsError, mcpkittest.Text(res))
	}
	var records []audit.Record
	require.Eventually(t, func() bool {
		records = servertest.ReadAudit(t, auditFile)
		return len(records) >= 2
	}, 5*time.Second, 50*time.Millisecond)
	ids := map[string]bool{}
	for _, r := range records {
		require.NotEmpty(t, r.RequestID, "record %s", r.ID)
		ids[r.RequestID] = true
	}
	assert.Len(t, ids, 2, "each call has its own request id")
}
