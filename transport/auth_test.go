package transport_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/internal/loopback/loopbacktest"
	"github.com/mcpkit-go/mcpkit/transport"
)

// introspectionServer answers RFC 7662 requests from a fixed table.
func introspectionServer(t *testing.T, table map[string]map[string]any) *httptest.Server {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "mcp-server" || p != "s3cret" {
			http.Error(w, "client auth", http.StatusUnauthorized)
			return
		}
		resp, ok := table[r.PostFormValue("token")]
		if !ok {
			resp = map[string]any{"active": false}
		}
		_ = json.NewEncoder(w).Encode(resp)
	}))
	t.Cleanup(ts.Close)
	return ts
}

func TestIntrospection(t *testing.T) {
	exp := float64(time.Now().Add(time.Hour).Unix())
	is := introspectionServer(t, map[string]map[string]any{
		"opaque-good":    {"active": true, "sub": "frank", "scope": "notes:read", "aud": testAudience, "iss": testIssuer, "exp": exp},
		"opaque-aud":     {"active": true, "sub": "frank", "scope": "notes:read", "aud": "https://other.test", "iss": testIssuer, "exp": exp},
		"opaque-expired": {"active": true, "sub": "frank", "aud": testAudience, "iss": testIssuer, "exp": float64(time.Now().Add(-time.Hour).Unix())},
	})
	in, err := transport.NewIntrospector(transport.IntrospectionConfig{Endpoint: is.URL, ClientID: "mcp-server", ClientSecret: "s3cret", Audience: testAudience, Issuer: testIssuer})
	require.NoError(t, err)
	ts, _ := serveHTTP(t, transport.WithAuthenticator(in))

	cs := connectHTTP(t, ts.URL, "opaque-good")
	res, err := cs.CallTool(context.Background(), nil2call("get_note"))
	require.NoError(t, err)
	got := echoResult(t, res)
	assert.Equal(t, "frank", got["subject"])
	assert.Equal(t, "introspection", got["auth"])

	for _, tc := range []struct{ token, bodyHas string }{
		{"opaque-inactive", "not accepted"},
		{"opaque-aud", "not accepted"},
		{"opaque-expired", "has expired"},
	} {
		t.Run(tc.token, func(t *testing.T) {
			resp := post(t, ts.URL+"/mcp", tc.token, `{"jsonrpc":"2.0","id":1,"method":"ping"}`, nil)
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`)
			assert.Contains(t, readBody(t, resp), tc.bodyHas)
		})
	}

	t.Run("endpoint down is 503, never a pass", func(t *testing.T) {
		dead := "http://" + loopbacktest.FreeAddr(t)
		down, err := transport.NewIntrospector(transport.IntrospectionConfig{Endpoint: dead, Audience: testAudience})
		require.NoError(t, err)
		ts, calls := serveHTTP(t, transport.WithAuthenticator(down))
		resp := post(t, ts.URL+"/mcp", "opaque-good", `{"jsonrpc":"2.0","id":1,"method":"ping"}`, nil)
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		assert.Equal(t, "5", resp.Header.Get("Retry-After"))
		assert.Empty(t, resp.Header.Get("WWW-Authenticate"))
		assert.Contains(t, readBody(t, resp), "cannot verify tokens right now")
		assert.Zero(t, calls.load())
	})
}

func nil2call(name string) *mcp.CallToolParams {
	return &mcp.CallToolParams{Name: name, Arguments: map[string]any{"text": "x"}}
}

func TestChainFallsThroughAndNeverTurnsUnavailableIntoInvalid(t *testing.T) {
	st := staticTokens(t)
	dead := "http://" + loopbacktest.FreeAddr(t)
	down, err := transport.NewIntrospector(transport.IntrospectionConfig{Endpoint: dead, Audience: testAudience})
	require.NoError(t, err)
	ctx := loopbackCtx()

	id, err := transport.AnyOf(down, st).Authenticate(ctx, aliceToken)
	require.NoError(t, err)
	assert.Equal(t, "alice", id.Subject)

	_, err = transport.AnyOf(st, down).Authenticate(ctx, "unknown-unknown-unknown")
	assert.ErrorIs(t, err, transport.ErrUnavailable)
	assert.NotErrorIs(t, err, transport.ErrInvalidToken)
}

func loopbackCtx() context.Context {
	return context.WithValue(context.Background(), http.LocalAddrContextKey, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80})
}

func TestStaticTokensAreLoopbackOnly(t *testing.T) {
	st := staticTokens(t)
	_, err := st.Authenticate(loopbackCtx(), aliceToken)
	require.NoError(t, err)

	lan := context.WithValue(context.Background(), http.LocalAddrContextKey, &net.TCPAddr{IP: net.IPv4(10, 0, 0, 5), Port: 80})
	_, err = st.Authenticate(lan, aliceToken)
	assert.ErrorIs(t, err, transport.ErrInvalidToken, "a request that arrived on a LAN address")
	_, err = st.Authenticate(context.Background(), aliceToken)
	assert.ErrorIs(t, err, transport.ErrInvalidToken, "no local address: fail closed")

	for _, addr := range []string{":8080", "0.0.0.0:8080", "10.0.0.5:80", "[::]:80"} {
		assert.ErrorContains(t, st.CheckListenAddr(addr), "refused on non-loopback", addr)
	}
	for _, addr := range []string{"127.0.0.1:8080", "localhost:80", "[::1]:80"} {
		assert.NoError(t, st.CheckListenAddr(addr), addr)
	}
	srv, _ := newTestServer(t)
	h, err := transport.NewHandler(srv, transport.WithAuthenticator(st))
	require.NoError(t, err)
	assert.ErrorContains(t, transport.ListenAndServe(context.Background(), "0.0.0.0:0", h), "refused on non-loopback")

	st.AllowNonLoopback = true
	_, err = st.Authenticate(lan, aliceToken)
	assert.NoError(t, err)
	assert.NoError(t, st.CheckListenAddr(":8080"))
}

func TestStaticTokenFileErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, content, want string }{
		{"not json", `{`, "not a token map"},
		{"empty", `{}`, "no tokens"},
		{"short token", `{"abc": {"sub": "x"}}`, "shorter than 16"},
		{"no sub", `{"0123456789abcdef": {"scopes": ["a"]}}`, `no "sub"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name+".json")
			require.NoError(t, os.WriteFile(p, []byte(tc.content), 0o600))
			_, err := transport.LoadStaticTokens(p)
			assert.ErrorContains(t, err, tc.want)
			assert.ErrorContains(t, err, p, "the error names the file")
		})
	}
	_, err := transport.LoadStaticTokens(filepath.Join(dir, "missing.json"))
	assert.ErrorContains(t, err, "no such file")
}
