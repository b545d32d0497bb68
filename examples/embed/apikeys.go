package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Principal is who the service's existing API-key scheme says is calling.
type Principal struct {
	Name        string
	Team        string
	Permissions []string
}

// Can reports whether p holds permission perm.
func (p Principal) Can(perm string) bool { return slices.Contains(p.Permissions, perm) }

// Permissions the service already has; the MCP tools reuse them as scopes.
const (
	PermOrdersRead  = "orders:read"
	PermOrdersWrite = "orders:write"
)

// APIKeys is the service's existing authentication: opaque API keys sent
// as "Authorization: Bearer <key>", stored only as SHA-256 digests.
type APIKeys struct {
	byDigest map[[sha256.Size]byte]Principal
}

// NewAPIKeys returns an empty key set.
func NewAPIKeys() *APIKeys { return &APIKeys{byDigest: map[[sha256.Size]byte]Principal{}} }

// minKeyLen keeps guessable keys out.
const minKeyLen = 24

// ParseAPIKeys reads "name:team:perm+perm:key" entries separated by
// commas, the format of $ORDERS_API_KEYS.
func ParseAPIKeys(s string) (*APIKeys, error) {
	k := NewAPIKeys()
	for entry := range strings.SplitSeq(s, ",") {
		if entry = strings.TrimSpace(entry); entry == "" {
			continue
		}
		// Permissions contain ':' themselves; the key, last, never does.
		parts := strings.Split(entry, ":")
		n := len(parts)
		if n < 4 || parts[0] == "" || len(parts[n-1]) < minKeyLen {
			return nil, fmt.Errorf("api keys: want name:team:perm+perm:key with a key of at least %d characters; the entry for %q is not", minKeyLen, parts[0])
		}
		perms := strings.Split(strings.Join(parts[2:n-1], ":"), "+")
		if err := k.Add(Principal{Name: parts[0], Team: parts[1], Permissions: perms}, parts[n-1]); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// Add registers key for p.
func (k *APIKeys) Add(p Principal, key string) error {
	d := sha256.Sum256([]byte(key))
	if _, dup := k.byDigest[d]; dup {
		return fmt.Errorf("api keys: duplicate key for %q", p.Name)
	}
	k.byDigest[d] = p
	return nil
}

// NewKey returns a fresh random key, for development.
func NewKey() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return "sk_" + hex.EncodeToString(b)
}

// Lookup returns the principal a key belongs to. Comparing digests in
// constant time keeps the lookup from leaking key prefixes.
func (k *APIKeys) Lookup(key string) (Principal, bool) {
	d := sha256.Sum256([]byte(key))
	for stored, p := range k.byDigest {
		if subtle.ConstantTimeCompare(stored[:], d[:]) == 1 {
			return p, true
		}
	}
	return Principal{}, false
}

var errNoKey = errors.New("missing or unknown API key")

// authenticate is how every existing endpoint finds its caller.
func (k *APIKeys) authenticate(r *http.Request) (Principal, error) {
	scheme, key, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return Principal{}, errNoKey
	}
	p, ok := k.Lookup(strings.TrimSpace(key))
	if !ok {
		return Principal{}, errNoKey
	}
	return p, nil
}

type principalKey struct{}

// PrincipalFrom returns the caller the auth middleware established.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// Require is the service's existing auth middleware: 401 without a valid
// key, 403 without the permission.
func (k *APIKeys) Require(perm string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := k.authenticate(r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="orders"`)
			writeJSONError(w, http.StatusUnauthorized, "send Authorization: Bearer <api key>")
			return
		}
		if !p.Can(perm) {
			writeJSONError(w, http.StatusForbidden, "this key lacks the "+perm+" permission")
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}
