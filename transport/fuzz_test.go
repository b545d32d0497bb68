package transport_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/mcpkit-go/mcpkit/transport"
)

// fuzzRSAKey is a throwaway RSA key for FuzzJWT only. It is fixed, not
// generated per run, because fuzz workers are separate processes: a
// token signed in one must verify in all, and the checked-in seeds must
// stay valid. It protects nothing.
const fuzzRSAKey = `-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDjvgYAi1YMkX1k
XCoiAXVhEZFxa/6sFf6JDkzBqA0PN1+dPtBAtncxE/sXNMxV+t+1KV3eoHokrSyd
rfXGkZ9UE/42wLbFLw3Uo1YKdYPwYrkRpmMZVNE5jcdemzwZK3KajcM++NArQZUM
xno0rXyrm1XqbPcAqAdW9Bez34oBajtUJ2MpRPIDwIG3VfcYxeoCPyRDg2OiTguM
ZIYxaecG6vRn9Fmxq2/TZ16ixmDbXnkH56iWG9jPe5V6EW7gzV1xEmI62cVjOP4R
02/i1NFxhTw+Ca4icUROesbTiSIzms9u1IkKqkggRdvp5vqS6D507VJAfcSpsm3n
4/Sn3/31AgMBAAECggEACMZXQQ/qGouqhKjma+JmTUpAS9n1rIsgADp5HtPX317q
g+QzlIkgC4rx125bc/HTSvQgLHk+nryLZdUZ89ldhbKyTnxbYaD5mL7lJeI3cxYi
rx+1kF7LvVRAoV0JOKdxzKtEoayaVk66RibWXSkIDvnQgO4YEEIcUkkPKe+L4WUA
6v6bajEDX3oIO340zKMTttEBqlYN6VzSiRL7UndB1aZ+5NyBUI0f1LPfFFHodJ4A
79Mav4M3SvHNdYApqNN+2XaZlfgszYOx8qlUz2YSVP3dK4fEslyygX0zKn8WD2Sb
xECs+Q5GhhVS2xhq01TJ+sYlOWQs2QhzB1EEsWiy2wKBgQD7pxrphZRzI6/Mh5dI
k1VoQTW8StJokrT+V29tgRA9BNDHbEfFDMz1NjHZYlk5JHGWIuFMtiBswpOIbHa4
Vjnif1the/oG1kZwY/bKHYXUwC6e59S5URb777QlIkeSp4B5sbR2VOW1P7Dfp5Rs
R5E2D4UdwEuS+AzV5REpCn/1WwKBgQDnrS2QuWmsdSrdCYpHMC30VjfsDtIwS4Lh
KBxNIQdH65UL3azd8AUJURyFgYkHDos9XXuexnfG3122+CEhJ+fKxtNAzUtlCpcu
ecDsIxQm5EXrvHJkIdxejdOnVGKBEm/3YulDaSs0dtsbgMv/1l0iiUNsgCKjXNx8
aHwSd8sq7wKBgHHk3nREJby6sQzzbQ/GxsfJg6V1g6cahtn5/o9j81J6hHdNVWok
cfqlDYiiT1liWhomLSvH3gL7SURcOpsRQ190XopPTwibIAQr6fztwa1ZUYBP0mIR
BkL96N1Jl3UTZD0vpUpNAC245rdCpBUhiuIZwhiF+G5K35xK8SpO+zyzAoGBAM35
H5ud3J+hA9zEkJW99f1XchyDCMg7Oj8nxBGmnayJfFeyW/BtZmzkGjFv+v21JoIG
TNPaq765872qWPn7Wo7jugnQ+4j3o3WEdcr7XP0+0hNF1YXEvQGrolMQKQuL8tPE
spJmPC1GxoJrPfNVCDSeSL18Jk+LTdOlqTlaG90tAoGBAPqHK5MxmUKZJRbHylfd
OhGkKlnMGrAVxAT7EX2gZVFlnZGTm2yARk7dHEkM4e2gttYfb8KO3cQID3+gnDNh
vHRJObnCuqeMfsjoZKHhJD8+ed9xozUrY4+XGENb6GIgvoO+eDhfO4sBwywoJ4i7
L7goE0elyg3HspBVm40XZo0t
-----END PRIVATE KEY-----`

// fuzzECScalar is the throwaway P-256 private scalar for FuzzJWT.
const fuzzECScalar = "6b0f3c2a4e5d7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f701"

// fuzzNow is FuzzJWT's clock: the checked-in tokens never expire.
var fuzzNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// fuzzKeys are the verification keys and the deterministic signers of
// FuzzJWT: RSA PKCS #1 v1.5 and ECDSA with RFC 6979 nonces, both with the
// standard library, so that the signer is independent of the verifier.
type fuzzKeys struct {
	rsa *rsa.PrivateKey
	ec  *ecdsa.PrivateKey
	set jwk.Set
}

func newFuzzKeys(t testing.TB) *fuzzKeys {
	t.Helper()
	block, _ := pem.Decode([]byte(fuzzRSAKey))
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	scalar, _ := new(big.Int).SetString(fuzzECScalar, 16)
	ec, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), scalar.FillBytes(make([]byte, 32)))
	if err != nil {
		t.Fatal(err)
	}
	fk := &fuzzKeys{rsa: k.(*rsa.PrivateKey), ec: ec, set: jwk.NewSet()}
	for kid, pub := range map[string]any{"rsa-fuzz": &fk.rsa.PublicKey, "ec-fuzz": &fk.ec.PublicKey} {
		jk, err := jwk.Import(pub)
		if err != nil {
			t.Fatal(err)
		}
		if err := errors.Join(jk.Set(jwk.KeyIDKey, kid), fk.set.AddKey(jk)); err != nil {
			t.Fatal(err)
		}
	}
	return fk
}

// sign builds a compact JWS over header and claims (marshalled in key
// order, so the output is the same in every process).
func (fk *fuzzKeys) sign(t testing.TB, header, claims map[string]any) string {
	t.Helper()
	h, err1 := json.Marshal(header)
	c, err2 := json.Marshal(claims)
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	return fk.signRaw(t, header["alg"].(string), string(h), string(c))
}

// signRaw signs header and claims exactly as written, for JSON a JOSE
// library would not produce (a member twice, a crit list).
func (fk *fuzzKeys) signRaw(t testing.TB, alg, h, c string) string {
	t.Helper()
	input := b64([]byte(h)) + "." + b64([]byte(c))
	digest := sha256.Sum256([]byte(input))
	var sig []byte
	var err error
	switch alg {
	case "RS256":
		sig, err = rsa.SignPKCS1v15(nil, fk.rsa, crypto.SHA256, digest[:])
	case "ES256":
		var der []byte
		der, err = fk.ec.Sign(nil, digest[:], crypto.SHA256) // nil rand: RFC 6979
		if err == nil {
			var rs struct{ R, S *big.Int }
			if _, err = asn1.Unmarshal(der, &rs); err == nil {
				sig = append(rs.R.FillBytes(make([]byte, 32)), rs.S.FillBytes(make([]byte, 32))...)
			}
		}
	default:
		t.Fatalf("no signer for %v", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64(sig)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// fuzzTokens are the tokens FuzzJWT signs: good ones (token -> subject)
// and ones whose signature is good but whose claims or header are not.
func fuzzTokens(t testing.TB, fk *fuzzKeys) (good map[string]string, badClaims []string) {
	t.Helper()
	claims := func(edit func(map[string]any)) map[string]any {
		c := map[string]any{"iss": testIssuer, "aud": testAudience, "sub": "carol", "scope": "notes:read",
			"iat": fuzzNow.Unix(), "exp": fuzzNow.Add(time.Hour).Unix()}
		if edit != nil {
			edit(c)
		}
		return c
	}
	rsaH := map[string]any{"alg": "RS256", "kid": "rsa-fuzz", "typ": "JWT"}
	ecH := map[string]any{"alg": "ES256", "kid": "ec-fuzz", "typ": "JWT"}
	good = map[string]string{
		fk.sign(t, rsaH, claims(nil)): "carol",
		fk.sign(t, ecH, claims(nil)):  "carol",
		fk.sign(t, ecH, claims(func(c map[string]any) {
			c["sub"], c["aud"], c["scp"] = "dave", []string{"https://other.test", testAudience}, []string{"a", "b"}
			delete(c, "scope")
		})): "dave",
	}
	for _, edit := range []func(map[string]any){
		func(c map[string]any) { c["exp"] = fuzzNow.Add(-time.Hour).Unix() },
		func(c map[string]any) { delete(c, "exp") },
		func(c map[string]any) { c["nbf"] = fuzzNow.Add(time.Hour).Unix() },
		func(c map[string]any) { c["aud"] = "https://other.test/mcp" },
		func(c map[string]any) { c["iss"] = "https://evil.test" },
		func(c map[string]any) { delete(c, "sub") },
		func(c map[string]any) { c["sub"] = 42 },
	} {
		badClaims = append(badClaims, fk.sign(t, rsaH, claims(edit)), fk.sign(t, ecH, claims(edit)))
	}
	// Good claims under a header that names the wrong key or no key.
	badClaims = append(badClaims,
		fk.sign(t, map[string]any{"alg": "RS256", "kid": "ec-fuzz"}, claims(nil)),
		fk.sign(t, map[string]any{"alg": "ES256", "kid": "rsa-fuzz"}, claims(nil)),
		fk.sign(t, map[string]any{"alg": "RS256"}, claims(nil)),
		fk.sign(t, map[string]any{"alg": "RS256", "kid": "unknown"}, claims(nil)),
	)
	// Good claims and key, but JSON read differently by different
	// parsers: crit not understood, a member twice.
	goodClaims, _ := json.Marshal(claims(nil))
	c := string(goodClaims)
	badClaims = append(badClaims,
		fk.signRaw(t, "RS256", `{"alg":"RS256","kid":"rsa-fuzz","crit":["x-evil"],"x-evil":true}`, c),
		fk.signRaw(t, "ES256", `{"alg":"ES256","kid":"ec-fuzz","crit":["exp"]}`, c),
		fk.signRaw(t, "RS256", `{"alg":"ES256","kid":"rsa-fuzz","alg":"RS256"}`, c),
		fk.signRaw(t, "ES256", `{"alg":"ES256","kid":"ec-fuzz","\u006bid":"ec-fuzz"}`, c),
		fk.signRaw(t, "RS256", `{"alg":"RS256","kid":"rsa-fuzz"}`, strings.Replace(c, `"sub":"carol"`, `"sub":"carol","sub":"root"`, 1)),
		fk.signRaw(t, "ES256", `{"alg":"ES256","kid":"ec-fuzz"}`, strings.Replace(c, `}`, `,"act":{"sub":"a","sub":"b"}}`, 1)),
	)
	return good, badClaims
}

// FuzzJWT feeds arbitrary bytes as a bearer token to a JWT authenticator
// with a static RSA + EC key set. It must never panic, must refuse with
// ErrInvalidToken, and must accept only a token this test signed with
// valid claims: a mutation that changes the signed bytes is a forgery.
func FuzzJWT(f *testing.F) {
	fk := newFuzzKeys(f)
	a, err := transport.NewJWTAuthenticatorAt(transport.JWTConfig{Keys: transport.StaticKeys(fk.set), Issuer: testIssuer,
		Audience: testAudience}, func() time.Time { return fuzzNow })
	if err != nil {
		f.Fatal(err)
	}
	good, bad := fuzzTokens(f, fk)
	ctx := context.Background()
	for tok := range good {
		f.Add([]byte(tok))
	}
	for _, tok := range bad {
		f.Add([]byte(tok))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tok := string(data)
		id, err := a.Authenticate(ctx, tok)
		if _, signed := good[tok]; signed && err != nil {
			t.Fatalf("a token signed with a known key and good claims was refused: %v", err)
		}
		if err != nil {
			if !errors.Is(err, transport.ErrInvalidToken) {
				t.Fatalf("a refusal must be ErrInvalidToken (401), got %v", err)
			}
			return
		}
		// Only the exact bytes the test signed: the authenticator refuses
		// other spellings of the same signature.
		sub, signed := good[tok]
		if !signed {
			t.Fatalf("accepted a token this test never signed: %q", tok)
		}
		if id.Subject != sub || id.AuthMethod != "jwt" {
			t.Fatalf("accepted as %+v, signed for %q", id, sub)
		}
	})
}

// FuzzStaticTokensFile feeds arbitrary bytes as a static-token file. It
// must never panic; a file it accepts must map every token of at least 16
// characters to an identity with a non-empty subject, exactly as the JSON
// says, and nothing else.
func FuzzStaticTokensFile(f *testing.F) {
	for _, s := range []string{
		`{"dev-alice-0123456789abcdef": {"sub": "alice", "email": "alice@example.com", "groups": ["sre"], "scopes": ["incidents:read"]}}`,
		`{"0123456789abcdef": {"sub": "a"}, "fedcba9876543210": {"sub": "b", "scopes": []}}`,
		`{"0123456789abcdef": {"sub": ""}}`,
		`{"0123456789abcdef": {"SUB": "x"}}`,
		`{"0123456789abcdef": {"sub": "a"}, "0123456789abcdef": {"sub": ""}}`,
		`{"short": {"sub": "a"}}`,
		`{"0123456789abcdef": null}`,
		`{"0123456789abcdef": {"sub": "a", "scopes": "notes:read"}}`,
		`[]`, `{}`, `null`, ``, `{"0123456789abcdef": {"sub": "\u0000"}}`,
	} {
		f.Add([]byte(s))
	}
	ctx := loopbackCtx()
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := transport.ParseStaticTokens(data)
		if err != nil {
			if st != nil {
				t.Fatal("an error and tokens")
			}
			return
		}
		// What the file says, read independently.
		var want map[string]struct {
			Sub    string   `json:"sub"`
			Scopes []string `json:"scopes"`
		}
		if err := json.Unmarshal(data, &want); err != nil || len(want) == 0 {
			t.Fatalf("accepted a file that is not a non-empty token map (%v)", err)
		}
		for tok, e := range want {
			id, err := st.Authenticate(ctx, tok)
			switch {
			case err != nil:
				t.Fatalf("token %q from the accepted file is refused: %v", tok, err)
			case id.Subject == "" || id.Subject != e.Sub:
				t.Fatalf("token %q: subject %q, file says %q", tok, id.Subject, e.Sub)
			case len(tok) < 16:
				t.Fatalf("accepted a %d-character token", len(tok))
			case strings.Join(id.Scopes, " ") != strings.Join(e.Scopes, " ") || id.AuthMethod != "static":
				t.Fatalf("token %q: identity %+v, file says %+v", tok, id, e)
			}
			if _, err := st.Authenticate(ctx, tok+"x"); err == nil {
				if _, listed := want[tok+"x"]; !listed {
					t.Fatalf("a token not in the file was accepted: %q", tok+"x")
				}
			}
		}
	})
}
