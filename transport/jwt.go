package transport

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// JWTConfig configures JWT access-token verification.
type JWTConfig struct {
	// Keys finds the verification key (NewRemoteJWKS or StaticKeys).
	// Required.
	Keys KeySource
	// Issuer is the required iss. Required.
	Issuer string
	// Audience is this server's resource URI (RFC 8707): aud must
	// contain it. Required, so that a token minted for another service is
	// never accepted here.
	Audience string
	// Algorithms allowed in the token header (default: RS256, RS384,
	// RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA). "none" and
	// HMAC algorithms are refused at construction.
	Algorithms []string
	// CriticalHeaders names the header parameters a token may list in
	// crit (RFC 7515 §4.1.11) because this deployment understands them
	// (default none: a token with crit is refused). Registered names and
	// b64 cannot be listed.
	CriticalHeaders []string
	// Skew tolerated on exp and nbf (default 30s, at most 5m).
	Skew time.Duration
	// Claims naming the subject, email and groups (default "sub",
	// "email", "groups"). Scopes come from "scope" (space separated) or
	// "scp" (array or string).
	SubjectClaim, EmailClaim, GroupsClaim string
}

// JWTAuthenticator verifies signed JWT access tokens.
type JWTAuthenticator struct {
	cfg      JWTConfig
	critical map[string]bool
	algs     map[string]jwa.SignatureAlgorithm
	parse    []jwt.ParseOption
}

var defaultAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// maxSkew bounds the configurable clock skew: past it, an expired token
// stays usable long enough to matter.
const maxSkew = 5 * time.Minute

// NewJWTAuthenticator checks cfg and returns a verifier.
func NewJWTAuthenticator(cfg JWTConfig) (*JWTAuthenticator, error) {
	return newJWTAuthenticator(cfg, time.Now)
}

// newJWTAuthenticator is NewJWTAuthenticator with the clock tokens are
// checked against (tests: export_test.go).
func newJWTAuthenticator(cfg JWTConfig, now func() time.Time) (*JWTAuthenticator, error) {
	switch {
	case cfg.Keys == nil:
		return nil, errors.New("jwt: Keys is required (NewRemoteJWKS or StaticKeys)")
	case cfg.Issuer == "":
		return nil, errors.New("jwt: Issuer is required")
	case cfg.Audience == "":
		return nil, errors.New("jwt: Audience (this server's resource URI) is required")
	case cfg.Skew < 0 || cfg.Skew > maxSkew:
		return nil, fmt.Errorf("jwt: Skew %v is outside [0, %v]", cfg.Skew, maxSkew)
	}
	if cfg.Skew == 0 {
		cfg.Skew = 30 * time.Second
	}
	if len(cfg.Algorithms) == 0 {
		cfg.Algorithms = defaultAlgorithms
	}
	if cfg.SubjectClaim == "" {
		cfg.SubjectClaim = "sub"
	}
	if cfg.EmailClaim == "" {
		cfg.EmailClaim = "email"
	}
	if cfg.GroupsClaim == "" {
		cfg.GroupsClaim = "groups"
	}
	critical, err := checkCriticalConfig(cfg.CriticalHeaders)
	if err != nil {
		return nil, err
	}
	a := &JWTAuthenticator{cfg: cfg, critical: critical, algs: map[string]jwa.SignatureAlgorithm{}}
	for _, name := range cfg.Algorithms {
		alg, ok := jwa.LookupSignatureAlgorithm(name)
		if !ok || alg == jwa.NoSignature() {
			return nil, fmt.Errorf("jwt: algorithm %q is not allowed", name)
		}
		if alg.IsSymmetric() {
			// A shared secret cannot come from a public JWKS; accepting
			// HS* invites the public-key-as-HMAC-secret confusion.
			return nil, fmt.Errorf("jwt: symmetric algorithm %q is not allowed", name)
		}
		a.algs[alg.String()] = alg
	}
	a.parse = []jwt.ParseOption{
		jwt.WithKeyProvider(jws.KeyProviderFunc(a.fetchKey)),
		jwt.WithValidate(true),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Audience),
		jwt.WithAcceptableSkew(cfg.Skew),
		jwt.WithClock(jwt.ClockFunc(now)),
		jwt.WithRequiredClaim("exp"),
	}
	return a, nil
}

// fetchKey hands jws the one key the header names, after checking the
// algorithm against the allow-list and the key type against the algorithm.
func (a *JWTAuthenticator) fetchKey(ctx context.Context, sink jws.KeySink, sig *jws.Signature, _ *jws.Message) error {
	h := sig.ProtectedHeaders()
	alg, ok := h.Algorithm()
	if !ok {
		return errors.New("token header has no alg")
	}
	allowed, ok := a.algs[alg.String()]
	if !ok {
		return fmt.Errorf("algorithm %q is not allowed", alg.String())
	}
	kid, _ := h.KeyID()
	key, err := a.cfg.Keys.LookupKey(ctx, kid)
	if err != nil {
		return err
	}
	if err := keyFits(key, allowed); err != nil {
		return err
	}
	sink.Key(allowed, key)
	return nil
}

// keyFits refuses a key whose type or declared alg does not match alg.
func keyFits(key jwk.Key, alg jwa.SignatureAlgorithm) error {
	if ka, ok := key.Algorithm(); ok && ka.String() != "" && ka.String() != alg.String() {
		return fmt.Errorf("key is for %s, token says %s", ka.String(), alg.String())
	}
	name := alg.String()
	var want jwa.KeyType
	switch {
	case strings.HasPrefix(name, "RS"), strings.HasPrefix(name, "PS"):
		want = jwa.RSA()
	case strings.HasPrefix(name, "ES"):
		want = jwa.EC()
	case name == "EdDSA":
		want = jwa.OKP()
	default:
		return fmt.Errorf("algorithm %s has no key type", name)
	}
	if key.KeyType() != want {
		return fmt.Errorf("key type %s does not fit %s", key.KeyType(), name)
	}
	return nil
}

// Authenticate implements Authenticator.
func (a *JWTAuthenticator) Authenticate(ctx context.Context, token string) (mcpkit.Identity, error) {
	if err := checkCompactJWS(token, a.critical); err != nil {
		return mcpkit.Identity{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	tok, err := jwt.ParseString(token, append(a.parse, jwt.WithContext(ctx))...)
	if err != nil {
		if errors.Is(err, jwt.TokenExpiredError()) {
			return mcpkit.Identity{}, fmt.Errorf("%w: %w", ErrExpiredToken, err)
		}
		return mcpkit.Identity{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	return a.identity(tok)
}

func (a *JWTAuthenticator) identity(tok jwt.Token) (mcpkit.Identity, error) {
	id := mcpkit.Identity{AuthMethod: "jwt", Transport: "http"}
	id.Subject = stringClaim(tok, a.cfg.SubjectClaim)
	if id.Subject == "" {
		return mcpkit.Identity{}, fmt.Errorf("%w: no %q claim", ErrInvalidToken, a.cfg.SubjectClaim)
	}
	id.Email = stringClaim(tok, a.cfg.EmailClaim)
	id.Groups = listClaim(tok, a.cfg.GroupsClaim)
	if s := stringClaim(tok, "scope"); s != "" {
		id.Scopes = strings.Fields(s)
	} else {
		id.Scopes = listClaim(tok, "scp")
	}
	return id, nil
}

func stringClaim(tok jwt.Token, name string) string {
	var v any
	if tok.Get(name, &v) != nil {
		return ""
	}
	s, _ := v.(string)
	return s
}

// listClaim reads an array of strings, or one space-separated string.
func listClaim(tok jwt.Token, name string) []string {
	var v any
	if tok.Get(name, &v) != nil {
		return nil
	}
	return anyList(v)
}
