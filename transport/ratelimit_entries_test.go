package transport_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
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

// TestRateChargeIsOneDecisionForBothLayers pins what one call is charged,
// for a tool, a fixed resource, a template and a prompt, per caller and
// per risk class: the HTTP transport (WithRateLimit, deciding before the
// server) and the gate (the same server reached in memory, deciding in its
// chain) ask the limiter for the same bucket key, exactly once per call;
// an unlimited class is not charged by either. When the transport answers
// 429 the call is not charged again and nothing runs.
func TestRateChargeIsOneDecisionForBothLayers(t *testing.T) {
	var (
		mu     sync.Mutex
		asked  []string
		refuse bool
	)
	limiter := ratelimit.Func(func(_ context.Context, key string, l ratelimit.Limit) (ratelimit.Decision, error) {
		mu.Lock()
		defer mu.Unlock()
		asked = append(asked, key+" "+l.String())
		if refuse {
			return ratelimit.Decision{RetryAfter: 7 * time.Second}, nil
		}
		return ratelimit.Decision{Allowed: true}, nil
	})
	drain := func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := asked
		asked = nil
		return out
	}
	rules, err := ratelimit.ParseRules("read_only=50/m,write=5/m,tool:write_postmortem=2/m,tool:incident=3/m")
	require.NoError(t, err)
	gate, err := ratelimit.NewGate(limiter, rules)
	require.NoError(t, err)
	srv, err := mcpkit.NewServer(&mcp.Implementation{Name: "charged", Version: "1.0.0"}, mcpkit.WithGates(gate))
	require.NoError(t, err)
	ran := &int64Counter{}
	pub := mcpkit.Policy{Risk: mcpkit.ReadOnly, Public: true}
	echo := func(_ context.Context, in echoIn) (echoIn, error) { ran.add(); return in, nil }
	require.NoError(t, mcpkit.AddTool(srv, mcpkit.Tool{Name: "get_echo", Description: "Echo text.", Policy: pub}, echo))
	require.NoError(t, mcpkit.AddTool(srv, mcpkit.Tool{Name: "set_echo", Description: "Store text.",
		Policy: mcpkit.Policy{Risk: mcpkit.Write, Public: true}}, echo))
	// A tool that shares the prompt's name: the name rule applies to both,
	// each in a bucket of its own kind.
	require.NoError(t, mcpkit.AddTool(srv, mcpkit.Tool{Name: "write_postmortem", Description: "File a write_postmortem.",
		Policy: mcpkit.Policy{Risk: mcpkit.Write, Public: true}}, echo))
	require.NoError(t, mcpkit.AddTool(srv, mcpkit.Tool{Name: "delete_echo", Description: "Delete text.",
		Policy: mcpkit.Policy{Risk: mcpkit.Destructive, Public: true}}, echo))
	require.NoError(t, mcpkit.AddResource(srv, mcpkit.Resource{URI: "status://now", Name: "status", Description: "The status.", Policy: pub},
		func(context.Context) ([]*mcp.ResourceContents, error) {
			ran.add()
			return []*mcp.ResourceContents{{Text: "ok"}}, nil
		}))
	require.NoError(t, mcpkit.AddResourceTemplate(srv, mcpkit.ResourceTemplate{URITemplate: "incident://{id}", Name: "incident",
		Description: "An incident.", Policy: pub}, func(_ context.Context, in incidentRef) ([]*mcp.ResourceContents, error) {
		ran.add()
		return []*mcp.ResourceContents{{Text: in.ID}}, nil
	}))
	require.NoError(t, mcpkit.AddPrompt(srv, mcpkit.Prompt{Name: "write_postmortem", Description: "Write a write_postmortem.", Policy: pub},
		func(_ context.Context, in incidentRef) ([]*mcp.PromptMessage, error) {
			ran.add()
			return []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: in.ID}}}, nil
		}))
	h, err := transport.NewHandler(srv, transport.WithAuthenticator(staticTokens(t)),
		transport.WithLogger(slog.New(slog.DiscardHandler)), transport.WithRateLimit(gate))
	require.NoError(t, err)
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)

	ctx := context.Background()
	type call struct {
		name, method, params, header string
		viaGate                      func(*mcp.ClientSession) error
	}
	calls := []struct {
		call
		bucket string // "" when not charged
		limit  string
	}{
		{call{"read-only tool", "tools/call", `{"name":"get_echo","arguments":{"text":"hi"},` + namedMeta + `}`, "get_echo",
			func(cs *mcp.ClientSession) error {
				_, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_echo", Arguments: map[string]any{"text": "hi"}})
				return err
			}}, "class:read_only", "50/m"},
		{call{"write tool", "tools/call", `{"name":"set_echo","arguments":{"text":"hi"},` + namedMeta + `}`, "set_echo",
			func(cs *mcp.ClientSession) error {
				_, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "set_echo", Arguments: map[string]any{"text": "hi"}})
				return err
			}}, "class:write", "5/m"},
		{call{"tool limited by name", "tools/call", `{"name":"write_postmortem","arguments":{"text":"hi"},` + namedMeta + `}`, "write_postmortem",
			func(cs *mcp.ClientSession) error {
				_, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "write_postmortem", Arguments: map[string]any{"text": "hi"}})
				return err
			}}, "tool:write_postmortem", "2/m"},
		{call{"destructive tool, class unlimited", "tools/call", `{"name":"delete_echo","arguments":{"text":"hi"},` + namedMeta + `}`, "delete_echo",
			func(cs *mcp.ClientSession) error {
				_, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "delete_echo", Arguments: map[string]any{"text": "hi"}})
				return err
			}}, "", ""},
		{call{"fixed resource", "resources/read", `{"uri":"status://now",` + namedMeta + `}`, "status://now",
			func(cs *mcp.ClientSession) error {
				_, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "status://now"})
				return err
			}}, "class:read_only", "50/m"},
		{call{"template limited by name", "resources/read", `{"uri":"incident://1001",` + namedMeta + `}`, "incident://1001",
			func(cs *mcp.ClientSession) error {
				_, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "incident://1001"})
				return err
			}}, "resource:incident", "3/m"},
		{call{"prompt limited by name", "prompts/get", `{"name":"write_postmortem","arguments":{"id":"1001"},` + namedMeta + `}`, "write_postmortem",
			func(cs *mcp.ClientSession) error {
				_, err := cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "write_postmortem", Arguments: map[string]string{"id": "1001"}})
				return err
			}}, "prompt:write_postmortem", "2/m"},
	}
	for _, who := range []struct{ token, subject string }{{aliceToken, "alice"}, {bobToken, "bob"}} {
		cs := mcpkittest.NewHarness(t, srv, mcpkittest.WithIdentity(mcpkit.Identity{Subject: who.subject, AuthMethod: "static"})).Session
		for _, c := range calls {
			var want []string
			if c.bucket != "" {
				want = []string{c.bucket + "\x00" + who.subject + " " + c.limit}
			}
			drain()
			before := ran.load()
			status, _, body := postNamed(t, ts.URL, who.token, c.method, c.params, c.header)
			require.Equal(t, http.StatusOK, status, "%s over HTTP: %s", c.name, body)
			require.NotContains(t, body, `"error"`, "%s over HTTP", c.name)
			assert.Equal(t, want, drain(), "%s over HTTP, as %s: charged once, by the transport", c.name, who.subject)
			require.NoError(t, c.viaGate(cs), "%s in memory", c.name)
			assert.Equal(t, want, drain(), "%s in memory, as %s: the gate charges what the transport charges", c.name, who.subject)
			assert.Equal(t, before+2, ran.load(), "%s ran once per layer", c.name)
		}
	}

	// Refused by the transport: 429, one question to the limiter, nothing
	// runs, and the gate does not ask again.
	mu.Lock()
	refuse = true
	mu.Unlock()
	for _, c := range calls {
		if c.bucket == "" {
			continue
		}
		drain()
		before := ran.load()
		status, retry, body := postNamed(t, ts.URL, aliceToken, c.method, c.params, c.header)
		assert.Equal(t, http.StatusTooManyRequests, status, "%s: %s", c.name, body)
		assert.Equal(t, "7", retry, c.name)
		assert.Equal(t, []string{c.bucket + "\x00alice " + c.limit}, drain(), "%s: a 429 is charged once", c.name)
		assert.Equal(t, before, ran.load(), "%s: the refused call did not run", c.name)
	}
}
