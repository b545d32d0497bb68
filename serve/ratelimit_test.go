package serve_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/internal/loopback/loopbacktest"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
	"github.com/mcpkit-go/mcpkit/ratelimit"
	"github.com/mcpkit-go/mcpkit/serve"
)

// postCall sends one tools/call by hand and returns the status, the
// Retry-After header and the JSON-RPC error message.
func postCall(t *testing.T, base, token, tool string, args string) (int, string, string) {
	t.Helper()
	body := `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"` + tool + `","arguments":` + args + `}}`
	req, _ := http.NewRequest(http.MethodPost, base+"/mcp", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Protocol-Version", "2025-06-18")
	resp, err := httpClient(token).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var rpc struct {
		Error struct{ Message string } `json:"error"`
	}
	_ = json.Unmarshal(b, &rpc)
	return resp.StatusCode, resp.Header.Get("Retry-After"), rpc.Error.Message
}

// Over HTTP a caller over its limit gets 429 with Retry-After before the
// server runs; the transport's decision is the only one (an admitted call
// is not counted again by the gate); a call refused for scopes counts; the
// refusals are on the record as denied_rate.
func TestHTTPRateLimitAnswers429WithRetryAfter(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "notes-audit.jsonl")
	var r ran
	addr := loopbacktest.FreeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- serve.Run(ctx, notesConfig(&r), []string{"-http", addr, "-tokens", writeTokens(t, dir), "-audit", path,
			"-approver", "deny", "-rate-limit", "read_only=2/m,write=1/h"}, serve.IO{Stderr: io.Discard, Getenv: noEnv})
	}()
	base := "http://" + addr
	waitHealthy(t, base, done)

	alice := connectHTTP(t, base, aliceToken)
	for range 2 {
		res, err := alice.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_note", Arguments: map[string]any{"id": "n1"}})
		require.NoError(t, err)
		require.False(t, res.IsError, "a call within the limit was refused (counted twice?): %s", mcpkittest.Text(res))
	}
	status, retry, msg := postCall(t, base, aliceToken, "get_note", `{"id":"n1"}`)
	assert.Equal(t, http.StatusTooManyRequests, status)
	secs, err := strconv.Atoi(retry)
	require.NoError(t, err, "Retry-After %q", retry)
	assert.InDelta(t, 30, secs, 2, "2/m: one call back every 30 s")
	assert.Contains(t, msg, "retry in "+retry+" seconds")
	assert.Equal(t, 2, r.get("get_note"), "the refused call did not run")

	// bob may not write: his first add_note is refused for scopes and
	// counted, so the second is refused by the limit.
	status, _, _ = postCall(t, base, bobToken, "add_note", `{"text":"x"}`)
	assert.Equal(t, http.StatusForbidden, status)
	status, retry, _ = postCall(t, base, bobToken, "add_note", `{"text":"x"}`)
	assert.Equal(t, http.StatusTooManyRequests, status)
	assert.NotEmpty(t, retry)
	// Other callers and other classes are unaffected.
	status, _, _ = postCall(t, base, bobToken, "get_note", `{"id":"n2"}`)
	assert.NotEqual(t, http.StatusTooManyRequests, status)

	require.NoError(t, alice.Close())
	cancel()
	waitDone(t, done)
	cs := calls(readAudit(t, path))
	for _, who := range []string{"alice", "bob"} {
		_, ok := findRecord(cs, func(rec audit.Record) bool {
			return rec.Outcome == "denied_rate" && rec.Principal.Subject == who
		})
		assert.True(t, ok, "%s's 429 is not on the record: %+v", who, cs)
	}
}

func TestBadRateLimitSpecFailsBeforeServing(t *testing.T) {
	var r ran
	err := serve.Run(context.Background(), notesConfig(&r), []string{"-rate-limit", "read_only=20/s,writes=5/m"},
		serve.IO{Stderr: io.Discard, Getenv: noEnv})
	require.ErrorContains(t, err, `-rate-limit: ratelimit: entry "writes=5/m": unknown key "writes"`)
}

// A server that supplies its own limiter (a fleet's shared one) has every
// -rate-limit decision made by it: its refusal is the 429, its key names
// the caller, and the memory limiter plays no part.
func TestConfigRateLimiterDecides(t *testing.T) {
	dir := t.TempDir()
	var r ran
	var mu sync.Mutex
	var keys []string
	shared := ratelimit.Func(func(_ context.Context, key string, _ ratelimit.Limit) (ratelimit.Decision, error) {
		mu.Lock()
		defer mu.Unlock()
		keys = append(keys, key)
		return ratelimit.Decision{RetryAfter: 42 * time.Second}, nil
	})
	cfg := notesConfig(&r)
	cfg.RateLimiter = func(context.Context) (ratelimit.Limiter, error) { return shared, nil }
	addr := loopbacktest.FreeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- serve.Run(ctx, cfg, []string{"-http", addr, "-tokens", writeTokens(t, dir), "-audit", filepath.Join(dir, "a.jsonl"),
			"-approver", "deny", "-rate-limit", "read_only=100/s"}, serve.IO{Stderr: io.Discard, Getenv: noEnv})
	}()
	base := "http://" + addr
	waitHealthy(t, base, done)
	status, retry, _ := postCall(t, base, aliceToken, "get_note", `{"id":"n1"}`)
	assert.Equal(t, http.StatusTooManyRequests, status, "100/s in memory would have allowed it")
	assert.Equal(t, "42", retry)
	assert.Zero(t, r.get("get_note"))
	cancel()
	waitDone(t, done)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, keys, 1, "one decision per call")
	assert.Contains(t, keys[0], "alice")
}

func TestConfigRateLimiterErrorStopsTheServer(t *testing.T) {
	var r ran
	called := 0
	cfg := notesConfig(&r)
	cfg.RateLimiter = func(context.Context) (ratelimit.Limiter, error) {
		called++
		return nil, errors.New("shared state: connection refused")
	}
	// Without -rate-limit the limiter is not asked for.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := serve.Run(ctx, cfg, []string{"-http", loopbacktest.FreeAddr(t), "-no-auth", "-audit", filepath.Join(t.TempDir(), "a.jsonl")},
		serve.IO{Stderr: io.Discard, Getenv: noEnv})
	require.NoError(t, err, "the server set up and stopped")
	require.Zero(t, called)

	err = serve.Run(context.Background(), cfg, []string{"-rate-limit", "read_only=20/s", "-audit", filepath.Join(t.TempDir(), "a.jsonl")},
		serve.IO{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard, Getenv: noEnv})
	require.ErrorContains(t, err, "-rate-limit: Config.RateLimiter: shared state: connection refused")
	require.Equal(t, 1, called)
}
