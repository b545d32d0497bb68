package transport_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"
	"github.com/stretchr/testify/require"
)

const (
	testIssuer   = "https://issuer.test"
	testAudience = "https://mcp.test/mcp"
)

// signer is a private key with its kid and algorithm.
type signer struct {
	priv jwk.Key
	pub  jwk.Key
	alg  jwa.SignatureAlgorithm
	raw  any
}

func newRSASigner(t testing.TB, kid string) *signer {
	t.Helper()
	raw, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	return newSigner(t, kid, raw, jwa.RS256())
}

func newECSigner(t testing.TB, kid string) *signer {
	t.Helper()
	raw, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return newSigner(t, kid, raw, jwa.ES256())
}

func newSigner(t testing.TB, kid string, raw any, alg jwa.SignatureAlgorithm) *signer {
	priv, err := jwk.Import(raw)
	require.NoError(t, err)
	require.NoError(t, priv.Set(jwk.KeyIDKey, kid))
	pub, err := priv.PublicKey()
	require.NoError(t, err)
	return &signer{priv: priv, pub: pub, alg: alg, raw: raw}
}

// claims are the defaults of a good token; tests override fields.
func goodClaims() map[string]any {
	now := time.Now()
	return map[string]any{
		"iss":    testIssuer,
		"aud":    []string{testAudience},
		"sub":    "carol",
		"email":  "carol@example.com",
		"groups": []string{"sre"},
		"scope":  "notes:read",
		"iat":    now.Unix(),
		"exp":    now.Add(5 * time.Minute).Unix(),
	}
}

func (s *signer) token(t testing.TB, claims map[string]any) string {
	t.Helper()
	tok := jwt.New()
	for k, v := range claims {
		require.NoError(t, tok.Set(k, v))
	}
	b, err := jwt.Sign(tok, jwt.WithKey(s.alg, s.priv))
	require.NoError(t, err)
	return string(b)
}

// unsignedToken is an alg:none token with the given claims.
func unsignedToken(t testing.TB, claims map[string]any) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	p, err := json.Marshal(claims)
	require.NoError(t, err)
	return h + "." + base64.RawURLEncoding.EncodeToString(p) + "."
}

// tamper changes the payload of a signed token and keeps its signature.
func tamper(t testing.TB, token string) string {
	parts := strings.Split(token, ".")
	p, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(p, &m))
	m["scope"] = "notes:read notes:admin"
	p, _ = json.Marshal(m)
	parts[1] = base64.RawURLEncoding.EncodeToString(p)
	return strings.Join(parts, ".")
}

// jwksServer serves a JWKS on 127.0.0.1 and counts fetches; it can be
// taken down and its keys replaced.
type jwksServer struct {
	*httptest.Server
	mu      sync.Mutex
	keys    []jwk.Key
	down    atomic.Bool
	fetches atomic.Int64
}

func newJWKSServer(t testing.TB, keys ...*signer) *jwksServer {
	j := &jwksServer{}
	j.setKeys(keys...)
	j.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		j.fetches.Add(1)
		if j.down.Load() {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		set := jwk.NewSet()
		j.mu.Lock()
		for _, k := range j.keys {
			_ = set.AddKey(k)
		}
		j.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(j.Close)
	return j
}

func (j *jwksServer) setKeys(keys ...*signer) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.keys = nil
	for _, k := range keys {
		j.keys = append(j.keys, k.pub)
	}
}

func x509MarshalPKIX(raw any) ([]byte, error) { return x509.MarshalPKIXPublicKey(raw) }

// newECSignerCached is a fresh EC key each call (its kid is unknown to any
// JWKS in the tests).
func newECSignerCached(t testing.TB) *signer { return newECSigner(t, "made-up-"+time.Now().String()) }
