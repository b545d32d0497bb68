package serve_test

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/internal/loopback/loopbacktest"
	"github.com/mcpkit-go/mcpkit/serve"
)

// TestServerLogMasksWhatTheClientSent plays the red team's attack over HTTP
// on 127.0.0.1: a browser Origin carrying a password and a bearer token the
// server refuses. The refusals are logged (the operator sees why), but the
// log on stderr holds the credentials no more than the audit record does.
func TestServerLogMasksWhatTheClientSent(t *testing.T) {
	dir := t.TempDir()
	var r ran
	addr := loopbacktest.FreeAddr(t)
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- serve.Run(ctx, notesConfig(&r), []string{"-http", addr, "-tokens", writeTokens(t, dir),
			"-audit", filepath.Join(dir, "audit.jsonl"), "-approver", "deny"}, serve.IO{Stderr: logs, Getenv: noEnv})
	}()
	base := "http://" + addr
	waitHealthy(t, base, done)

	body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add_note","arguments":{"text":"x"}}}`
	req, _ := http.NewRequest(http.MethodPost, base+"/mcp", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Origin", "https://user:OriginPass123@evil.example")
	resp, err := httpClient(aliceToken).Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(15 * time.Second):
		t.Fatal("server did not stop")
	}
	assert.Zero(t, r.get("add_note"), "a refused call ran")
	out := logs.String()
	assert.Contains(t, out, "origin not allowed", "the refusal is logged")
	assert.Contains(t, out, "evil.example", "the log still names the origin's host")
	assert.NotContains(t, out, "OriginPass123")
}
