package transport_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/transport"
)

// signRaw signs the exact header and payload bytes given with an RSA
// signer (RS256), so that a test can write JSON a JOSE library would never
// produce: duplicate members, crit lists.
func signRaw(t testing.TB, s *signer, header, payload string) string {
	t.Helper()
	input := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString([]byte(payload))
	digest := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(nil, s.raw.(*rsa.PrivateKey), crypto.SHA256, digest[:])
	require.NoError(t, err)
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// rawClaims is goodClaims as JSON text with room for extra members.
func rawClaims(extra string) string {
	now := time.Now()
	return `{"iss":"` + testIssuer + `","aud":["` + testAudience + `"],"sub":"carol","scope":"notes:read notes:admin",` +
		`"iat":` + itoa(now.Unix()) + `,"exp":` + itoa(now.Add(5*time.Minute).Unix()) + extra + `}`
}

func itoa(n int64) string { return i64(n) }

func i64(n int64) string {
	b := []byte{}
	if n == 0 {
		return "0"
	}
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// TestJWTHeaderQuirksAreRefused plays validly signed tokens, verified
// against a JWKS the test serves, whose header or claims a JOSE library
// reads one way and another reader may read another: an unknown crit
// extension (RFC 7515 §4.1.11: must be refused), alg twice (last one
// won), and duplicate members anywhere in the header or the claims (which
// sub, which scope?). Each is 401 and the tool does not run; the same key
// with a plain header still works.
func TestJWTHeaderQuirksAreRefused(t *testing.T) {
	key := newRSASigner(t, "rsa-1")
	jwks := newJWKSServer(t, key)
	ts, calls := serveHTTP(t, transport.WithAuthenticator(newJWT(t, must(transport.NewRemoteJWKS(jwks.URL)))), transport.WithResource(testAudience))
	plain := `{"alg":"RS256","kid":"rsa-1","typ":"JWT"}`
	cases := []struct{ name, header, payload string }{
		{"crit names an unknown extension", `{"alg":"RS256","kid":"rsa-1","crit":["x-evil"],"x-evil":true}`, rawClaims("")},
		{"crit names a registered parameter", `{"alg":"RS256","kid":"rsa-1","crit":["exp"]}`, rawClaims("")},
		{"crit empty", `{"alg":"RS256","kid":"rsa-1","crit":[]}`, rawClaims("")},
		{"alg twice", `{"alg":"ES256","kid":"rsa-1","alg":"RS256"}`, rawClaims("")},
		{"alg twice, escaped", `{"alg":"RS256","kid":"rsa-1","\u0061lg":"RS256"}`, rawClaims("")},
		{"kid twice", `{"alg":"RS256","kid":"other","kid":"rsa-1"}`, rawClaims("")},
		{"duplicate in a nested header object", `{"alg":"RS256","kid":"rsa-1","x":{"a":1,"a":2}}`, rawClaims("")},
		{"sub twice", plain, rawClaims(`,"sub":"root"`)},
		{"scope twice", plain, rawClaims(`,"scope":"notes:read"`)},
		{"aud twice", plain, rawClaims(`,"aud":"https://billing.example.com/api"`)},
		{"duplicate in a nested claim", plain, rawClaims(`,"act":{"sub":"a","sub":"b"}`)},
		{"duplicate in an object inside an array", plain, rawClaims(`,"x":[{"k":1},{"k":1,"k":2}]`)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok := signRaw(t, key, tc.header, tc.payload)
			resp := post(t, ts.URL+"/mcp", tok, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delete_note","arguments":{"text":"x"}}}`, nil)
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`)
			assert.Contains(t, readBody(t, resp), "not accepted")
		})
	}
	assert.Zero(t, calls.load(), "no quirky token reached a tool")

	// Not a false alarm: the same key, plain JSON, same-named keys in
	// different objects.
	tok := signRaw(t, key, plain, rawClaims(`,"act":{"sub":"a","scope":"b"},"x":[{"k":1},{"k":2}]`))
	cs := connectHTTP(t, ts.URL, tok)
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "delete_note", Arguments: map[string]any{"text": "x"}})
	require.NoError(t, err)
	assert.Equal(t, "carol", echoResult(t, res)["subject"])
}

// TestJWTCriticalHeadersUnderstood: with CriticalHeaders listing an
// extension, a token marking it critical is accepted, any other crit is
// still refused, and a crit naming a parameter the header lacks is refused.
// Registered names and b64 cannot be listed.
func TestJWTCriticalHeadersUnderstood(t *testing.T) {
	key := newRSASigner(t, "rsa-1")
	jwks := newJWKSServer(t, key)
	a, err := transport.NewJWTAuthenticator(transport.JWTConfig{Keys: must(transport.NewRemoteJWKS(jwks.URL)), Issuer: testIssuer,
		Audience: testAudience, CriticalHeaders: []string{"x-tenant"}})
	require.NoError(t, err)
	ctx := context.Background()
	_, err = a.Authenticate(ctx, signRaw(t, key, `{"alg":"RS256","kid":"rsa-1","crit":["x-tenant"],"x-tenant":"acme"}`, rawClaims("")))
	assert.NoError(t, err)
	for _, h := range []string{
		`{"alg":"RS256","kid":"rsa-1","crit":["x-tenant","x-evil"],"x-tenant":"acme","x-evil":1}`,
		`{"alg":"RS256","kid":"rsa-1","crit":["x-tenant"]}`,
		`{"alg":"RS256","kid":"rsa-1","crit":["x-tenant","x-tenant"],"x-tenant":"acme"}`,
		`{"alg":"RS256","kid":"rsa-1","crit":"x-tenant","x-tenant":"acme"}`,
	} {
		_, err = a.Authenticate(ctx, signRaw(t, key, h, rawClaims("")))
		assert.ErrorIs(t, err, transport.ErrInvalidToken, h)
	}
	for _, bad := range [][]string{{"alg"}, {"b64"}, {""}, {"x", "x"}} {
		_, err := transport.NewJWTAuthenticator(transport.JWTConfig{Keys: must(transport.NewRemoteJWKS(jwks.URL)), Issuer: testIssuer,
			Audience: testAudience, CriticalHeaders: bad})
		assert.ErrorContains(t, err, "CriticalHeaders", bad)
	}
}
