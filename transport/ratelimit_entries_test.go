package transport_test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/ratelimit"
	"github.com/mcpkit-go/mcpkit/transport"
)

// postNamed sends one 2026-07-28 request for method naming name, as token.
func postNamed(t *testing.T, url, token, method, params, name string) (int, string, string) {
	t.Helper()
	body := `{"jsonrpc":"2.0","id":5,"method":"` + method + `","params":` + params + `}`
	req, err := http.NewRequest(http.MethodPost, url+"/mcp", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Mcp-Protocol-Version", newRevision)
	req.Header.Set("Mcp-Method", method)
	req.Header.Set("Mcp-Name", name)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	raw, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Retry-After"), string(raw)
}

// TestRateLimitedReadAndGetAnswer429: with WithRateLimit a resources/read
// or prompts/get over its limit is answered 429 with Retry-After before
// the server runs, as a tools/call is, and is on the record as
// denied_rate; the calls within the limit are counted once (the gate does
// not charge them again), and another caller is unaffected.
func TestRateLimitedReadAndGetAnswer429(t *testing.T) {
	mem, err := ratelimit.NewMemory()
	require.NoError(t, err)
	rules, err := ratelimit.ParseRules("read_only=2/m")
	require.NoError(t, err)
	gate, err := ratelimit.NewGate(mem, rules)
	require.NoError(t, err)
	url, ran, records := namedServerWith(t, []mcpkit.Option{mcpkit.WithGates(gate)}, transport.WithRateLimit(gate))

	// Reads and gets count in the read-only class: alice spends hers on
	// reads, root on gets; bob spends one of his on each.
	for _, c := range []struct{ method, params, name, token string }{
		{"resources/read", `{"uri":"incident://INC-1001",` + namedMeta + `}`, "incident://INC-1001", aliceToken},
		{"prompts/get", `{"name":"postmortem","arguments":{"id":"1001"},` + namedMeta + `}`, "postmortem", adminToken},
	} {
		before := ran.load()
		for i := range 2 {
			status, _, body := postNamed(t, url, c.token, c.method, c.params, c.name)
			require.Equal(t, http.StatusOK, status, "%s #%d within the limit (counted twice?): %s", c.method, i+1, body)
			require.NotContains(t, body, `"error"`, "%s #%d within the limit (counted twice?)", c.method, i+1)
		}
		status, retry, body := postNamed(t, url, c.token, c.method, c.params, c.name)
		assert.Equal(t, http.StatusTooManyRequests, status, body)
		secs, err := strconv.Atoi(retry)
		require.NoError(t, err, "Retry-After %q", retry)
		assert.InDelta(t, 30, secs, 2, "2/m: one back every 30 s")
		assert.Contains(t, body, "retry in "+retry+" seconds")
		assert.Equal(t, before+2, ran.load(), "the refused %s did not run", c.method)
		before = ran.load()

		status, _, body = postNamed(t, url, bobToken, c.method, c.params, c.name)
		assert.Equal(t, http.StatusOK, status, "another caller is unaffected: %s", body)
		assert.NotContains(t, body, `"error"`)
		assert.Equal(t, before+1, ran.load())
	}
	var denied []string
	for _, r := range records() {
		if r.Outcome == string(mcpkit.OutcomeDeniedRate) {
			assert.NotEqual(t, "bob", r.Principal.Subject)
			denied = append(denied, r.Operation+" "+r.Target)
		}
	}
	assert.ElementsMatch(t, []string{"resources/read incident://INC-1001", "prompts/get postmortem"}, denied)
}
