package transport_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/transport"
)

// TestTypedNilAuthenticatorIsRefusedAtConstruction: a nil pointer inside
// the Authenticator interface is not a nil interface, so it used to pass
// NewHandler and panic at the first request or in ListenAndServe. Each
// form is now a construction error, and so is an AnyOf holding one or an
// empty AnyOf (which accepted every token as an empty identity).
func TestTypedNilAuthenticatorIsRefusedAtConstruction(t *testing.T) {
	st := staticTokens(t)
	for _, tc := range []struct {
		name string
		auth transport.Authenticator
		want string
	}{
		{"nil *StaticTokens", (*transport.StaticTokens)(nil), "*transport.StaticTokens is nil"},
		{"nil *JWTAuthenticator", (*transport.JWTAuthenticator)(nil), "*transport.JWTAuthenticator is nil"},
		{"nil *Introspector", (*transport.Introspector)(nil), "*transport.Introspector is nil"},
		{"nil AuthenticatorFunc", transport.AuthenticatorFunc(nil), "transport.AuthenticatorFunc is nil"},
		{"AnyOf with a nil member", transport.AnyOf(st, (*transport.StaticTokens)(nil)), "AnyOf member 2"},
		{"empty AnyOf", transport.AnyOf(), "AnyOf of no authenticators"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := newTestServer(t)
			h, err := transport.NewHandler(srv, transport.WithAuthenticator(tc.auth))
			require.Error(t, err)
			assert.ErrorContains(t, err, tc.want)
			assert.Nil(t, h)
		})
	}

	// The usable forms still construct and serve on loopback.
	ts, calls := serveHTTP(t, transport.WithAuthenticator(transport.AnyOf(st)))
	cs := connectHTTP(t, ts.URL, aliceToken)
	res, err := cs.CallTool(context.Background(), nil2call("get_note"))
	require.NoError(t, err)
	assert.Equal(t, "alice", echoResult(t, res)["subject"])
	assert.EqualValues(t, 1, calls.load())
}

// TestEmptyChainAcceptsNoToken: used directly (not through a Handler),
// an empty or broken AnyOf refuses every token instead of returning an
// empty identity with no error, and RequestAuthenticator over a typed nil
// refuses instead of panicking.
func TestEmptyChainAcceptsNoToken(t *testing.T) {
	ctx := loopbackCtx()
	_, err := transport.AnyOf().Authenticate(ctx, aliceToken)
	assert.ErrorIs(t, err, transport.ErrInvalidToken)
	_, err = transport.AnyOf(staticTokens(t), (*transport.StaticTokens)(nil)).Authenticate(ctx, aliceToken)
	assert.Error(t, err)
	assert.NotPanics(t, func() {
		r, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1/", nil)
		r.Header.Set("Authorization", "Bearer "+aliceToken)
		_, err = transport.RequestAuthenticator((*transport.StaticTokens)(nil))(r)
	})
	assert.Error(t, err)
}

// TestIntrospectionRefusesTokenForAnotherAudience: the authorization
// server introspects a token it issued for the billing API as active. With
// no Audience configured that token used to call a destructive tool here.
// Audience is now required, and a token whose aud names another resource is
// 401 before any tool runs.
func TestIntrospectionRefusesTokenForAnotherAudience(t *testing.T) {
	exp := float64(time.Now().Add(time.Hour).Unix())
	is := introspectionServer(t, map[string]map[string]any{
		"billing-token": {"active": true, "sub": "mallory", "scope": "notes:read notes:admin", "aud": "https://billing.example.com/api", "iss": testIssuer, "exp": exp},
		"no-aud-token":  {"active": true, "sub": "mallory", "scope": "notes:read notes:admin", "iss": testIssuer, "exp": exp},
		"ours":          {"active": true, "sub": "frank", "scope": "notes:read notes:admin", "aud": []any{"https://billing.example.com/api", testAudience}, "iss": testIssuer, "exp": exp},
	})
	_, err := transport.NewIntrospector(transport.IntrospectionConfig{Endpoint: is.URL, ClientID: "mcp-server", ClientSecret: "s3cret"})
	require.Error(t, err, "an introspector without an audience accepts tokens for any API")
	assert.ErrorContains(t, err, "Audience")

	in, err := transport.NewIntrospector(transport.IntrospectionConfig{Endpoint: is.URL, ClientID: "mcp-server", ClientSecret: "s3cret", Audience: testAudience})
	require.NoError(t, err)
	ts, calls := serveHTTP(t, transport.WithAuthenticator(in), transport.WithResource(testAudience))
	for _, token := range []string{"billing-token", "no-aud-token"} {
		resp := post(t, ts.URL+"/mcp", token, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delete_note","arguments":{"text":"x"}}}`, nil)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, token)
		assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`)
		assert.Contains(t, readBody(t, resp), "not accepted")
	}
	assert.Zero(t, calls.load(), "delete_note never ran")

	cs := connectHTTP(t, ts.URL, "ours")
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "delete_note", Arguments: map[string]any{"text": "x"}})
	require.NoError(t, err)
	assert.Equal(t, "frank", echoResult(t, res)["subject"])
	assert.EqualValues(t, 1, calls.load())
}

// TestJWKSAndStdioRefuseInvalidOptions: a JWKS URL that is not an absolute
// http(s) URL, a nil client, a TTL that is not positive, or a stdio line
// limit that is not positive is an error from the constructor (each used
// to be kept and fail, or hang, only once tokens or lines arrived).
func TestJWKSAndStdioRefuseInvalidOptions(t *testing.T) {
	jwks := []struct {
		name string
		url  string
		opts []transport.JWKSOption
		want string
	}{
		{"relative url", "/jwks.json", nil, "absolute http(s) URL"},
		{"file url", "file:///etc/jwks.json", nil, "absolute http(s) URL"},
		{"nil client", "https://idp.example.com/jwks.json", []transport.JWKSOption{transport.WithJWKSClient(nil)}, "WithJWKSClient needs a client"},
		{"zero ttl", "https://idp.example.com/jwks.json", []transport.JWKSOption{transport.WithJWKSTTL(0)}, "WithJWKSTTL needs a positive duration"},
		{"negative min refresh", "https://idp.example.com/jwks.json", []transport.JWKSOption{transport.WithJWKSMinRefresh(-time.Second)}, "WithJWKSMinRefresh"},
	}
	for _, tc := range jwks {
		t.Run("jwks/"+tc.name, func(t *testing.T) {
			k, err := transport.NewRemoteJWKS(tc.url, tc.opts...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Nil(t, k)
		})
	}
	_, err := transport.NewRemoteJWKS("https://idp.example.com/jwks.json")
	require.NoError(t, err)

	srv, _ := newTestServer(t)
	for name, opt := range map[string]transport.StdioOption{
		"zero line limit": transport.WithMaxLineBytes(0),
		"negative drain":  transport.WithDrainTimeout(-time.Second),
		"nil reader":      transport.WithStdio(nil, io.Discard),
	} {
		t.Run("stdio/"+name, func(t *testing.T) {
			err := transport.ServeStdio(context.Background(), srv, transport.WithStdio(strings.NewReader(""), io.Discard), opt)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "transport: With")
		})
	}
}
