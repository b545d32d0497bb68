package approval

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Key is one HMAC key of a Keyring.
type Key struct {
	// ID names the key in every state it signs, so that verification can
	// pick it after a rotation. Letters, digits, '-' and '_'.
	ID string
	// Secret is at least 32 random bytes.
	Secret []byte
}

// Keyring holds the keys that sign and verify approval states: it signs
// with the newest key and verifies with any, so a team rotates by adding a
// new key last and removing the old one once its states have expired.
type Keyring struct {
	keys map[string][]byte
	sign Key
}

var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// MinKeySize is the shortest secret a Keyring accepts.
const MinKeySize = 32

// NewKeyring returns a keyring over keys, oldest first; the last key signs.
func NewKeyring(keys ...Key) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("approval: a keyring needs at least one key")
	}
	kr := &Keyring{keys: make(map[string][]byte, len(keys))}
	for _, k := range keys {
		if !keyIDPattern.MatchString(k.ID) {
			return nil, fmt.Errorf("approval: key id %q must be 1-32 letters, digits, '-' or '_'", k.ID)
		}
		if len(k.Secret) < MinKeySize {
			return nil, fmt.Errorf("approval: key %q is %d bytes; use at least %d random bytes", k.ID, len(k.Secret), MinKeySize)
		}
		if _, dup := kr.keys[k.ID]; dup {
			return nil, fmt.Errorf("approval: key id %q appears twice", k.ID)
		}
		kr.keys[k.ID] = append([]byte(nil), k.Secret...)
	}
	last := keys[len(keys)-1]
	kr.sign = Key{ID: last.ID, Secret: kr.keys[last.ID]}
	return kr, nil
}

// ParseKeys reads keys from "id:base64secret" pairs separated by commas,
// oldest first (the format of an environment variable).
func ParseKeys(s string) ([]Key, error) {
	var keys []Key
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		id, enc, ok := strings.Cut(part, ":")
		if !ok {
			return nil, fmt.Errorf("approval: key %q: want id:base64secret", id)
		}
		secret, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			if secret, err = base64.RawURLEncoding.DecodeString(enc); err != nil {
				return nil, fmt.Errorf("approval: key %q: secret is not base64", id)
			}
		}
		keys = append(keys, Key{ID: id, Secret: secret})
	}
	return keys, nil
}

// stateVersion prefixes every state so that a future format is told apart.
const stateVersion = "a1"

// maxStateLen bounds the state a client may send back before any work is
// spent on it.
const maxStateLen = 2048

// claims are what a state binds.
type claims struct {
	// Principal is the caller's subject.
	Principal string `json:"p"`
	Tool      string `json:"t"`
	// Args is the hex SHA-256 of the canonical arguments.
	Args string `json:"a"`
	// Nonce makes each state unique and is the replay-cache key.
	Nonce string `json:"n"`
	// Instance binds the state to the issuing process when the replay
	// cache is in memory, so that a restart cannot reopen a used state.
	Instance string `json:"i,omitempty"`
	Issued   int64  `json:"iat"`
	Expires  int64  `json:"exp"`
}

// stateError says why a state was refused; its text is client-safe.
type stateError struct{ reason string }

func (e *stateError) Error() string { return e.reason }

func invalidState(format string, args ...any) error {
	return &stateError{reason: fmt.Sprintf(format, args...)}
}

// sign returns the state for c: "a1.<kid>.<payload>.<mac>", base64url
// parts, MAC = HMAC-SHA256 over "a1.<kid>.<payload>".
func (kr *Keyring) signClaims(c claims) (string, error) {
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	head := stateVersion + "." + kr.sign.ID + "." + base64.RawURLEncoding.EncodeToString(payload)
	return head + "." + base64.RawURLEncoding.EncodeToString(mac(kr.sign.Secret, head)), nil
}

// verify checks the state's format, key and MAC, and returns its claims.
// It does not check what they bind; the caller does.
func (kr *Keyring) verifyState(s string) (claims, error) {
	var c claims
	if len(s) > maxStateLen {
		return c, invalidState("requestState is longer than any this server issues")
	}
	parts := strings.Split(s, ".")
	if len(parts) != 4 || parts[0] != stateVersion {
		return c, invalidState("requestState is not one this server issued")
	}
	secret, ok := kr.keys[parts[1]]
	if !ok {
		return c, invalidState("requestState was signed with an unknown or retired key")
	}
	// Compare the canonical encoding, not the decoded bytes: the decoder
	// skips newlines and ignores the last character's unused bits, which
	// would give one signature several accepted spellings.
	want := base64.RawURLEncoding.EncodeToString(mac(secret, strings.Join(parts[:3], ".")))
	if !hmac.Equal([]byte(parts[3]), []byte(want)) {
		return c, invalidState("requestState signature does not verify (forged or altered)")
	}
	payload, err := base64.RawURLEncoding.Strict().DecodeString(parts[2])
	if err != nil || json.Unmarshal(payload, &c) != nil {
		return c, invalidState("requestState payload is malformed")
	}
	return c, nil
}

func mac(secret []byte, msg string) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

// newNonce returns 128 random bits, hex encoded.
func newNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// ReplayCache remembers used approval states until they expire, so that each
// is accepted once. A cache shared by replicas (Redis SETNX with a TTL, a
// database unique key) makes states single use across a fleet.
// mcpkittest.TestReplayCache checks an implementation against this
// contract.
type ReplayCache interface {
	// Use records id as used until the given time and reports whether it
	// was unused. It must be atomic: of any number of concurrent calls
	// with the same id at most one returns true. The id stays used at
	// least until the given time; after it the cache may forget it.
	// An error means the state is refused (fail closed), so Use returns
	// false with it; a ctx that is done is such an error (ctx.Err()), and
	// a cache must not report an id fresh once ctx is done.
	Use(ctx context.Context, id string, until time.Time) (bool, error)
}

// MemoryReplayCache is the in-process ReplayCache. States issued by a server
// using it are bound to that process: after a restart they are refused, so
// a lost cache never reopens a used state.
type MemoryReplayCache struct {
	mu      sync.Mutex
	used    map[string]time.Time
	lastGC  time.Time
	maxSize int
}

// NewMemoryReplayCache returns an empty cache that holds at most maxSize
// live entries (refusing new states beyond that: fail closed).
func NewMemoryReplayCache(maxSize int) *MemoryReplayCache {
	if maxSize <= 0 {
		maxSize = 100_000
	}
	return &MemoryReplayCache{used: map[string]time.Time{}, maxSize: maxSize}
}

// Use implements ReplayCache.
func (m *MemoryReplayCache) Use(ctx context.Context, id string, until time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if now.Sub(m.lastGC) > time.Minute || len(m.used) >= m.maxSize {
		for k, exp := range m.used {
			if now.After(exp) {
				delete(m.used, k)
			}
		}
		m.lastGC = now
	}
	if exp, ok := m.used[id]; ok && !now.After(exp) {
		return false, nil
	}
	if len(m.used) >= m.maxSize {
		return false, errors.New("approval: replay cache is full")
	}
	m.used[id] = until
	return true, nil
}
