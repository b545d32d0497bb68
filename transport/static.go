package transport

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// StaticTokens authenticates development tokens listed in a JSON file:
//
//	{"TOKEN": {"sub": "alice", "email": "alice@example.com",
//	           "groups": ["sre"], "scopes": ["incidents:read"]}}
//
// They never expire and anyone holding the file can act as anyone in it,
// so they are accepted only on requests that arrived on a loopback
// address unless AllowNonLoopback is set.
type StaticTokens struct {
	// byHash keys identities by the token's SHA-256, so that lookups do
	// not compare secrets byte by byte.
	byHash map[[32]byte]mcpkit.Identity
	// AllowNonLoopback accepts the tokens on any listen address. Leave it
	// off outside a developer's machine.
	AllowNonLoopback bool
}

type staticEntry struct {
	Sub    string   `json:"sub"`
	Email  string   `json:"email"`
	Groups []string `json:"groups"`
	Scopes []string `json:"scopes"`
}

// LoadStaticTokens reads a static token file.
func LoadStaticTokens(path string) (*StaticTokens, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("static tokens: %w", err)
	}
	st, err := ParseStaticTokens(b)
	if err != nil {
		return nil, fmt.Errorf("static tokens %s: %w", path, err)
	}
	return st, nil
}

// ParseStaticTokens parses the JSON form of a static token file.
func ParseStaticTokens(data []byte) (*StaticTokens, error) {
	var raw map[string]staticEntry
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf(`not a token map {"TOKEN": {"sub": ..., "scopes": [...]}}: %w`, err)
	}
	if len(raw) == 0 {
		return nil, errors.New("no tokens")
	}
	st := &StaticTokens{byHash: make(map[[32]byte]mcpkit.Identity, len(raw))}
	for tok, e := range raw {
		switch {
		case len(tok) < 16:
			return nil, fmt.Errorf("token for %q is shorter than 16 characters", e.Sub)
		case e.Sub == "":
			return nil, fmt.Errorf("a token has no \"sub\"")
		}
		st.byHash[sha256.Sum256([]byte(tok))] = mcpkit.Identity{
			Subject: e.Sub, Email: e.Email, Groups: slices.Clone(e.Groups), Scopes: slices.Clone(e.Scopes),
			AuthMethod: "static", Transport: "http",
		}
	}
	return st, nil
}

// Authenticate implements Authenticator.
func (s *StaticTokens) Authenticate(ctx context.Context, token string) (mcpkit.Identity, error) {
	if !s.AllowNonLoopback && !localAddrIsLoopback(ctx) {
		return mcpkit.Identity{}, fmt.Errorf("%w: static tokens are accepted on loopback listeners only", ErrInvalidToken)
	}
	id, ok := s.byHash[sha256.Sum256([]byte(token))]
	if !ok {
		return mcpkit.Identity{}, fmt.Errorf("%w: unknown static token", ErrInvalidToken)
	}
	return id, nil
}

// CheckListenAddr refuses a non-loopback listen address unless
// AllowNonLoopback is set; ListenAndServe calls it before listening.
func (s *StaticTokens) CheckListenAddr(addr string) error {
	if s.AllowNonLoopback || isLoopbackAddr(addr) {
		return nil
	}
	return fmt.Errorf("static development tokens are refused on non-loopback address %q; listen on 127.0.0.1 or allow it explicitly", addr)
}
