package transport_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
	"github.com/mcpkit-go/mcpkit/transport"
)

const (
	aliceToken = "alice-token-0123456789"
	adminToken = "admin-token-0123456789"
	bobToken   = "bob-token-0123456789ab"
)

func staticTokens(t testing.TB) *transport.StaticTokens {
	st, err := transport.ParseStaticTokens([]byte(`{
		"` + aliceToken + `": {"sub": "alice", "email": "alice@example.com", "groups": ["sre"], "scopes": ["notes:read"]},
		"` + adminToken + `": {"sub": "root", "scopes": ["notes:read", "notes:admin"]},
		"` + bobToken + `": {"sub": "bob", "scopes": ["notes:read"]}}`))
	require.NoError(t, err)
	return st
}

// serveHTTP serves a test server through a transport Handler on 127.0.0.1.
func serveHTTP(t testing.TB, opts ...transport.Option) (*httptest.Server, *int64Counter) {
	t.Helper()
	srv, calls := newTestServer(t)
	h, err := transport.NewHandler(srv, opts...)
	require.NoError(t, err)
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts, calls
}

// bearerClient adds a token to every request.
func bearerClient(token string) *http.Client {
	return &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+token)
		return http.DefaultTransport.RoundTrip(r)
	})}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func connectHTTP(t testing.TB, url, token string) *mcp.ClientSession {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "1.0.0"}, nil)
	cs, err := client.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: url + "/mcp", HTTPClient: bearerClient(token)}, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

func echoResult(t testing.TB, res *mcp.CallToolResult) map[string]any {
	t.Helper()
	require.False(t, res.IsError, mcpkittest.Text(res))
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(mcpkittest.Text(res)), &m))
	return m
}

func TestStaticTokenIdentityReachesHandlerOverHTTP(t *testing.T) {
	for _, mode := range []struct {
		name string
		opts []transport.Option
	}{
		{"stateful", nil},
		{"stateless json", []transport.Option{transport.WithStateless(), transport.WithJSONResponse()}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			ts, calls := serveHTTP(t, append(mode.opts, transport.WithAuthenticator(staticTokens(t)))...)
			cs := connectHTTP(t, ts.URL, aliceToken)
			res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_note", Arguments: map[string]any{"text": "hi"}})
			require.NoError(t, err)
			got := echoResult(t, res)
			assert.Equal(t, "alice", got["subject"])
			assert.Equal(t, "static", got["auth"])
			assert.Equal(t, "http", got["via"])
			assert.EqualValues(t, 1, calls.load())
		})
	}
}

func TestToolsListHidesToolsTheTokenCannotUse(t *testing.T) {
	ts, _ := serveHTTP(t, transport.WithAuthenticator(staticTokens(t)))
	names := func(token string) []string {
		res, err := connectHTTP(t, ts.URL, token).ListTools(context.Background(), nil)
		require.NoError(t, err)
		var out []string
		for _, tool := range res.Tools {
			out = append(out, tool.Name)
		}
		return out
	}
	assert.ElementsMatch(t, []string{"get_echo", "get_note"}, names(aliceToken))
	assert.ElementsMatch(t, []string{"get_echo", "get_note", "delete_note"}, names(adminToken))
}

func TestInsufficientScopeIs403WithStepUpChallengeBeforeTheToolRuns(t *testing.T) {
	ts, calls := serveHTTP(t, transport.WithAuthenticator(staticTokens(t)), transport.WithResource(testAudience))
	t.Run("go-sdk client sees the message and keeps its session", func(t *testing.T) {
		cs := connectHTTP(t, ts.URL, aliceToken)
		_, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "delete_note", Arguments: map[string]any{"text": "x"}})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "tool delete_note requires scope notes:admin")
		res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_note", Arguments: map[string]any{"text": "x"}})
		require.NoError(t, err)
		assert.Equal(t, "alice", echoResult(t, res)["subject"])
	})
	body := `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"delete_note","arguments":{"text":"x"}}}`
	for _, tc := range []struct {
		name    string
		headers map[string]string
		body    string
	}{
		{"name from body", nil, body},
		{"name from body in a batch", nil, "[" + body + "]"},
		{"name from Mcp-Name on 2026-07-28", map[string]string{"Mcp-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": "delete_note"}, body},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := post(t, ts.URL+"/mcp", aliceToken, tc.body, tc.headers)
			assert.Equal(t, http.StatusForbidden, resp.StatusCode)
			assert.Equal(t, `Bearer error="insufficient_scope", scope="notes:admin", resource_metadata="https://mcp.test/.well-known/oauth-protected-resource/mcp"`,
				resp.Header.Get("WWW-Authenticate"))
			assert.Contains(t, readBody(t, resp), "requires scope notes:admin")
		})
	}
	assert.EqualValues(t, 1, calls.load(), "only the allowed get_note call ran")
}

func post(t testing.TB, url, token, body string, headers map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

func readBody(t testing.TB, resp *http.Response) string {
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

func TestSessionReplayedByAnotherIdentityIsRefused(t *testing.T) {
	ts, calls := serveHTTP(t, transport.WithAuthenticator(staticTokens(t)))
	cs := connectAt(t, ts.URL, aliceToken, "2025-11-25")
	require.NotEmpty(t, cs.ID())
	call := `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"get_note","arguments":{"text":"x"}}}`
	resp := post(t, ts.URL+"/mcp", bobToken, call, map[string]string{"Mcp-Session-Id": cs.ID(), "Mcp-Protocol-Version": "2025-06-18"})
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Contains(t, readBody(t, resp), "session user mismatch")
	assert.Zero(t, calls.load())
}

func TestHTTPBadInput(t *testing.T) {
	ts, calls := serveHTTP(t, transport.WithAuthenticator(staticTokens(t)), transport.WithMaxBodyBytes(1024),
		transport.WithAllowedOrigins("https://app.example.com"))
	initBody := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}`
	cases := []struct {
		name       string
		token      string
		body       string
		headers    map[string]string
		chunked    bool
		status     int
		challenge  string
		bodyHas    string
		noWWWAuthn bool
	}{
		{name: "missing token", body: initBody, status: 401, challenge: `Bearer resource_metadata="` + ts.URL + `/.well-known/oauth-protected-resource/mcp"`, bodyHas: "missing bearer token"},
		{name: "basic instead of bearer", body: initBody, headers: map[string]string{"Authorization": "Basic YTpi"}, status: 401, challenge: `Bearer resource_metadata="` + ts.URL + `/.well-known/oauth-protected-resource/mcp"`, bodyHas: "missing bearer token"},
		{name: "unknown static token", token: "nope-nope-nope-nope", body: initBody, status: 401, challenge: `Bearer resource_metadata="` + ts.URL + `/.well-known/oauth-protected-resource/mcp", error="invalid_token"`, bodyHas: "invalid bearer token"},
		{name: "wrong origin", token: aliceToken, body: initBody, headers: map[string]string{"Origin": "https://evil.example"}, status: 403, bodyHas: "origin https://evil.example is not allowed", noWWWAuthn: true},
		{name: "oversized body with length", token: aliceToken, body: strings.Repeat(" ", 2000) + initBody, status: 413, bodyHas: "exceeds the server's limit of 1024 bytes", noWWWAuthn: true},
		{name: "oversized chunked body", token: aliceToken, body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_note","arguments":{"text":"` + strings.Repeat("a", 2000) + `"}}}`, chunked: true, status: 413, bodyHas: "exceeds the server's limit", noWWWAuthn: true},
		{name: "malformed body", token: aliceToken, body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":`, status: 400, noWWWAuthn: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader = strings.NewReader(tc.body)
			if tc.chunked {
				body = io.MultiReader(strings.NewReader(tc.body)) // unknown length: sent chunked
			}
			req, err := http.NewRequest(http.MethodPost, ts.URL+"/mcp", body)
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			got := readBody(t, resp)
			assert.Equal(t, tc.status, resp.StatusCode, got)
			if tc.noWWWAuthn {
				assert.Empty(t, resp.Header.Get("WWW-Authenticate"))
			} else {
				assert.Equal(t, tc.challenge, resp.Header.Get("WWW-Authenticate"))
			}
			assert.Contains(t, got, tc.bodyHas)
		})
	}
	assert.Zero(t, calls.load())
}

func TestAllowedAndSameOriginPass(t *testing.T) {
	ts, _ := serveHTTP(t, transport.WithAuthenticator(staticTokens(t)), transport.WithAllowedOrigins("https://app.example.com"))
	initBody := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}`
	resp := post(t, ts.URL+"/mcp", aliceToken, initBody, map[string]string{"Origin": "https://app.example.com"})
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	ts2, _ := serveHTTP(t, transport.WithAuthenticator(staticTokens(t)))
	resp = post(t, ts2.URL+"/mcp", aliceToken, initBody, map[string]string{"Origin": ts2.URL})
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	resp = post(t, ts2.URL+"/mcp", aliceToken, initBody, map[string]string{"Origin": "http://attacker.test"})
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
}

func TestProtectedResourceMetadata(t *testing.T) {
	ts, _ := serveHTTP(t, transport.WithAuthenticator(staticTokens(t)), transport.WithResource(testAudience),
		transport.WithAuthorizationServers(testIssuer))
	for _, path := range []string{"/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"} {
		t.Run(path, func(t *testing.T) {
			resp, err := http.Get(ts.URL + path)
			require.NoError(t, err)
			defer resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode)
			var doc map[string]any
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&doc))
			assert.Equal(t, testAudience, doc["resource"])
			assert.Equal(t, []any{testIssuer}, doc["authorization_servers"])
			assert.Equal(t, []any{"notes:admin", "notes:read"}, doc["scopes_supported"])
		})
	}
}

func TestHealthAndReadiness(t *testing.T) {
	srv, _ := newTestServer(t)
	ready := true
	h, err := transport.NewHandler(srv, transport.WithAuthenticator(staticTokens(t)), transport.WithReadiness(func(context.Context) error {
		if !ready {
			return io.ErrUnexpectedEOF
		}
		return nil
	}))
	require.NoError(t, err)
	status := func(path string) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code
	}
	assert.Equal(t, 200, status("/healthz"))
	assert.Equal(t, 200, status("/readyz"))
	ready = false
	assert.Equal(t, 503, status("/readyz"))
	ready = true
	h.StartDrain()
	assert.Equal(t, 503, status("/readyz"))
	assert.Equal(t, 200, status("/healthz"))
}

func TestNewHandlerRefusesNoAuthenticatorByOmission(t *testing.T) {
	srv, _ := newTestServer(t)
	_, err := transport.NewHandler(srv)
	assert.ErrorContains(t, err, "no authenticator")
	_, err = transport.NewHandler(srv, transport.WithoutAuthentication(), transport.WithPath("mcp"))
	assert.ErrorContains(t, err, "must start with /")
}

func TestMountOnExistingMux(t *testing.T) {
	srv, _ := newTestServer(t)
	h, err := transport.NewHandler(srv, transport.WithAuthenticator(staticTokens(t)), transport.WithPath("/api/mcp"))
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.HandleFunc("/api/other", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("team route")) })
	h.Register(mux)
	ts := httptest.NewServer(mux)
	defer ts.Close()
	client := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1"}, nil)
	cs, err := client.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: ts.URL + "/api/mcp", HTTPClient: bearerClient(aliceToken)}, nil)
	require.NoError(t, err)
	defer cs.Close()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_echo", Arguments: map[string]any{"text": "hi"}})
	require.NoError(t, err)
	assert.Equal(t, "alice", echoResult(t, res)["subject"])
	resp, err := http.Get(ts.URL + "/.well-known/oauth-protected-resource/api/mcp")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

var _ = mcpkit.Identity{}
