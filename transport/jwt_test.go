package transport_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/transport"
)

func newJWT(t testing.TB, keys transport.KeySource) *transport.JWTAuthenticator {
	t.Helper()
	a, err := transport.NewJWTAuthenticator(transport.JWTConfig{Keys: keys, Issuer: testIssuer, Audience: testAudience})
	require.NoError(t, err)
	return a
}

func TestJWTIdentityReachesHandlerWithRSAAndEC(t *testing.T) {
	rsaKey, ecKey := newRSASigner(t, "rsa-1"), newECSigner(t, "ec-1")
	jwks := newJWKSServer(t, rsaKey, ecKey)
	ts, _ := serveHTTP(t, transport.WithAuthenticator(newJWT(t, must(transport.NewRemoteJWKS(jwks.URL)))), transport.WithResource(testAudience))
	for _, s := range []*signer{rsaKey, ecKey} {
		t.Run(s.alg.String(), func(t *testing.T) {
			claims := goodClaims()
			claims["scope"] = "notes:read other"
			cs := connectHTTP(t, ts.URL, s.token(t, claims))
			res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_note", Arguments: map[string]any{"text": "hi"}})
			require.NoError(t, err)
			got := echoResult(t, res)
			assert.Equal(t, "carol", got["subject"])
			assert.Equal(t, "jwt", got["auth"])
			assert.Equal(t, []any{"notes:read", "other"}, got["scopes"])
		})
	}
	assert.EqualValues(t, 1, jwks.fetches.Load(), "keys are cached")
}

func TestJWTBadTokensAre401WithChallenge(t *testing.T) {
	rsaKey, ecKey := newRSASigner(t, "rsa-1"), newECSigner(t, "ec-1")
	stranger := newRSASigner(t, "stranger")
	jwks := newJWKSServer(t, rsaKey, ecKey)
	ts, calls := serveHTTP(t, transport.WithAuthenticator(newJWT(t, must(transport.NewRemoteJWKS(jwks.URL)))), transport.WithResource(testAudience))
	with := func(k string, v any) map[string]any { c := goodClaims(); c[k] = v; return c }
	without := func(k string) map[string]any { c := goodClaims(); delete(c, k); return c }
	// HS256 signed with the RSA public key's DER bytes as the secret: the
	// classic key-confusion forgery.
	hmacWithPublicKey := func() string {
		pubRaw, err := jwk.PublicRawKeyOf(rsaKey.raw)
		require.NoError(t, err)
		pk, err := jwk.Import(pubRaw)
		require.NoError(t, err)
		der, err := jwkThumbless(pk)
		require.NoError(t, err)
		tok := jwt.New()
		for k, v := range goodClaims() {
			require.NoError(t, tok.Set(k, v))
		}
		hk, err := jwk.Import(der)
		require.NoError(t, err)
		require.NoError(t, hk.Set(jwk.KeyIDKey, "rsa-1"))
		b, err := jwt.Sign(tok, jwt.WithKey(jwa.HS256(), hk))
		require.NoError(t, err)
		return string(b)
	}
	cases := []struct {
		name, token, bodyHas string
	}{
		{"malformed", "not-a-jwt", "not accepted"},
		{"garbage in three parts", "a.b.c", "not accepted"},
		{"expired RSA", rsaKey.token(t, with("exp", time.Now().Add(-time.Hour).Unix())), "has expired"},
		{"expired EC", ecKey.token(t, with("exp", time.Now().Add(-time.Hour).Unix())), "has expired"},
		{"not yet valid", rsaKey.token(t, with("nbf", time.Now().Add(time.Hour).Unix())), "not accepted"},
		{"no exp", rsaKey.token(t, without("exp")), "not accepted"},
		{"wrong audience", rsaKey.token(t, with("aud", []string{"https://other.test/mcp"})), "not accepted"},
		{"wrong issuer", ecKey.token(t, with("iss", "https://evil.test")), "not accepted"},
		{"no subject", rsaKey.token(t, without("sub")), "not accepted"},
		{"unsigned alg none", unsignedToken(t, goodClaims()), "not accepted"},
		{"HMAC with the public key", hmacWithPublicKey(), "not accepted"},
		{"unknown kid", stranger.token(t, goodClaims()), "not accepted"},
		{"tampered RSA", tamper(t, rsaKey.token(t, goodClaims())), "not accepted"},
		{"tampered EC", tamper(t, ecKey.token(t, goodClaims())), "not accepted"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := post(t, ts.URL+"/mcp", tc.token, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_note","arguments":{"text":"x"}}}`, nil)
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			assert.Equal(t, `Bearer resource_metadata="https://mcp.test/.well-known/oauth-protected-resource/mcp", error="invalid_token"`, resp.Header.Get("WWW-Authenticate"))
			body := readBody(t, resp)
			assert.Contains(t, body, tc.bodyHas)
			assert.NotContains(t, body, "signature", "the client is not told why verification failed")
		})
	}
	assert.Zero(t, calls.load())
}

// jwkThumbless returns the DER (PKIX) bytes of a public key.
func jwkThumbless(k jwk.Key) ([]byte, error) {
	var raw any
	if err := jwk.Export(k, &raw); err != nil {
		return nil, err
	}
	return x509MarshalPKIX(raw)
}

func TestJWKSDownKeepsCachedKeysAndNeverBypasses(t *testing.T) {
	rsaKey := newRSASigner(t, "rsa-1")
	rotated := newRSASigner(t, "rsa-2")
	jwks := newJWKSServer(t, rsaKey)
	now := time.Now()
	clock := func() time.Time { return now }
	keys := must(transport.NewRemoteJWKS(jwks.URL, transport.WithJWKSClock(clock), transport.WithJWKSMinRefresh(time.Minute), transport.WithJWKSTTL(time.Hour)))
	a, err := transport.NewJWTAuthenticatorAt(transport.JWTConfig{Keys: keys, Issuer: testIssuer, Audience: testAudience}, clock)
	require.NoError(t, err)
	ctx := context.Background()
	fresh := func() map[string]any {
		c := goodClaims()
		c["iat"] = now.Unix()
		c["exp"] = now.Add(time.Hour).Unix()
		return c
	}

	_, err = a.Authenticate(ctx, rsaKey.token(t, fresh()))
	require.NoError(t, err)
	require.EqualValues(t, 1, jwks.fetches.Load())

	jwks.down.Store(true)
	now = now.Add(2 * time.Hour) // cache stale, server down
	_, err = a.Authenticate(ctx, rsaKey.token(t, fresh()))
	assert.NoError(t, err, "cached keys keep working while the JWKS server is down")

	// Made-up kids cannot make the server hammer the issuer.
	before := jwks.fetches.Load()
	for range 20 {
		_, err = a.Authenticate(ctx, newECSignerCached(t).token(t, fresh()))
		assert.ErrorIs(t, err, transport.ErrInvalidToken)
	}
	assert.Equal(t, before, jwks.fetches.Load(), "refreshes are rate limited")

	// Rotation: an unknown kid refreshes once the rate limit allows.
	jwks.down.Store(false)
	jwks.setKeys(rsaKey, rotated)
	now = now.Add(2 * time.Minute)
	_, err = a.Authenticate(ctx, rotated.token(t, fresh()))
	assert.NoError(t, err)

	// No keys at all: invalid, never a pass.
	dead := newJWKSServer(t)
	dead.down.Store(true)
	b := newJWT(t, must(transport.NewRemoteJWKS(dead.URL)))
	_, err = b.Authenticate(ctx, rsaKey.token(t, fresh()))
	assert.ErrorIs(t, err, transport.ErrInvalidToken)
}

func TestJWKSDownOverHTTPIs401(t *testing.T) {
	rsaKey := newRSASigner(t, "rsa-1")
	dead := newJWKSServer(t, rsaKey)
	dead.down.Store(true)
	ts, _ := serveHTTP(t, transport.WithAuthenticator(newJWT(t, must(transport.NewRemoteJWKS(dead.URL)))))
	resp := post(t, ts.URL+"/mcp", rsaKey.token(t, goodClaims()), `{"jsonrpc":"2.0","id":1,"method":"ping"}`, nil)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`)
}

func TestJWTConfigRefusesUnsafeAlgorithmsAndSkew(t *testing.T) {
	keys := transport.StaticKeys(jwk.NewSet())
	for _, tc := range []struct {
		name string
		cfg  transport.JWTConfig
		want string
	}{
		{"none", transport.JWTConfig{Keys: keys, Issuer: "i", Audience: "a", Algorithms: []string{"none"}}, `"none" is not allowed`},
		{"HS256", transport.JWTConfig{Keys: keys, Issuer: "i", Audience: "a", Algorithms: []string{"HS256"}}, "symmetric"},
		{"no audience", transport.JWTConfig{Keys: keys, Issuer: "i"}, "Audience"},
		{"no issuer", transport.JWTConfig{Keys: keys, Audience: "a"}, "Issuer"},
		{"huge skew", transport.JWTConfig{Keys: keys, Issuer: "i", Audience: "a", Skew: time.Hour}, "Skew"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := transport.NewJWTAuthenticator(tc.cfg)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func TestJWTStaticKeysScpAndCustomClaims(t *testing.T) {
	ecKey := newECSigner(t, "ec-1")
	set := jwk.NewSet()
	require.NoError(t, set.AddKey(ecKey.pub))
	a, err := transport.NewJWTAuthenticator(transport.JWTConfig{Keys: transport.StaticKeys(set), Issuer: testIssuer, Audience: testAudience,
		Algorithms: []string{"ES256"}, SubjectClaim: "oid", EmailClaim: "upn", GroupsClaim: "roles"})
	require.NoError(t, err)
	claims := goodClaims()
	delete(claims, "scope")
	claims["scp"] = []string{"notes:read", "notes:admin"}
	claims["oid"], claims["upn"], claims["roles"] = "u-42", "dave@example.com", []string{"admins"}
	id, err := a.Authenticate(context.Background(), ecKey.token(t, claims))
	require.NoError(t, err)
	assert.Equal(t, "u-42", id.Subject)
	assert.Equal(t, "dave@example.com", id.Email)
	assert.Equal(t, []string{"admins"}, id.Groups)
	assert.Equal(t, []string{"notes:read", "notes:admin"}, id.Scopes)

	// RS256 is not on this allow-list even with a matching key.
	rsaKey := newRSASigner(t, "rsa-1")
	require.NoError(t, set.AddKey(rsaKey.pub))
	_, err = a.Authenticate(context.Background(), rsaKey.token(t, goodClaims()))
	assert.ErrorIs(t, err, transport.ErrInvalidToken)
}
