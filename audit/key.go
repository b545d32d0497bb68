package audit

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// EnvKey is the environment variable KeyringFromEnv reads by convention:
// one or more "kid:secret" entries separated by commas or newlines, oldest
// first.
const EnvKey = "MCPKIT_AUDIT_KEY"

// MinKeyBytes is the shortest secret a Keyring accepts.
const MinKeyBytes = 32

// Key is one audit MAC key: an id written into every record it seals, and
// the secret, which is never written anywhere by this package.
type Key struct {
	ID     string
	Secret []byte
}

// Keyring holds the keys of an audit log. The newest (last) key seals new
// records; every key verifies. Rotate by appending a key: records sealed
// with older keys keep verifying as long as their key stays in the ring.
type Keyring struct {
	keys []Key
	byID map[string][]byte
}

// NewKeyring returns a keyring of keys, oldest first. Each id must be 1 to
// 64 characters of [A-Za-z0-9._-] and unique, each secret at least
// MinKeyBytes long.
func NewKeyring(keys ...Key) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("audit: a keyring needs at least one key")
	}
	k := &Keyring{byID: make(map[string][]byte, len(keys))}
	for _, key := range keys {
		if !validKid(key.ID) {
			return nil, fmt.Errorf("audit: key id %q: use 1 to 64 characters of A-Z a-z 0-9 . _ -", key.ID)
		}
		if len(key.Secret) < MinKeyBytes {
			return nil, fmt.Errorf("audit: key %q: the secret is %d bytes, at least %d are needed", key.ID, len(key.Secret), MinKeyBytes)
		}
		if _, dup := k.byID[key.ID]; dup {
			return nil, fmt.Errorf("audit: key id %q appears twice", key.ID)
		}
		secret := append([]byte(nil), key.Secret...)
		k.keys = append(k.keys, Key{ID: key.ID, Secret: secret})
		k.byID[key.ID] = secret
	}
	return k, nil
}

// ParseKeyring reads keys from text: one "kid:secret" entry per line (or
// separated by commas), oldest first, the secret in hex or base64 (standard
// or URL alphabet, padded or not). Blank lines and lines starting with '#'
// are skipped.
func ParseKeyring(text string) (*Keyring, error) {
	var keys []Key
	var entries []string
	for _, line := range strings.Split(text, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			entries = append(entries, strings.Split(line, ",")...)
		}
	}
	for _, line := range entries {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		kid, enc, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("audit: key entry %q: want kid:secret", redactEntry(line))
		}
		secret, err := decodeSecret(strings.TrimSpace(enc))
		if err != nil {
			return nil, fmt.Errorf("audit: key %q: %w", strings.TrimSpace(kid), err)
		}
		keys = append(keys, Key{ID: strings.TrimSpace(kid), Secret: secret})
	}
	return NewKeyring(keys...)
}

// redactEntry keeps an error message about a malformed key entry free of
// the secret it may hold.
func redactEntry(s string) string {
	if len(s) > 8 {
		return s[:4] + "…"
	}
	return "…"
}

func decodeSecret(s string) ([]byte, error) {
	if b, err := hex.DecodeString(s); err == nil && len(s)%2 == 0 {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("the secret is neither hex nor base64")
}

// KeyringFromEnv reads a keyring from the environment variable name
// (conventionally EnvKey). An unset or empty variable is an error.
func KeyringFromEnv(name string) (*Keyring, error) {
	v := os.Getenv(name)
	if strings.TrimSpace(v) == "" {
		return nil, fmt.Errorf("audit: %s is not set", name)
	}
	k, err := ParseKeyring(v)
	if err != nil {
		return nil, fmt.Errorf("%w (from $%s)", err, name)
	}
	return k, nil
}

// ReadKeyFile reads a keyring file (the format of ParseKeyring). The file
// must not be readable or writable by group or others.
func ReadKeyFile(path string) (*Keyring, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("audit: key file: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("audit: key file %s has mode %v: it must be readable by its owner only (chmod 600)", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("audit: key file: %w", err)
	}
	k, err := ParseKeyring(string(b))
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return k, nil
}

// LoadOrCreateKeyFile reads the keyring file at path, or, when there is
// none, creates it (mode 0600, directories 0700) with one new random key
// and reports created. It exists for development setups that must work
// with no preparation; a production deployment provisions the key and
// keeps it where the log's writers cannot read it.
func LoadOrCreateKeyFile(path string) (k *Keyring, created bool, err error) {
	k, err = ReadKeyFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return k, false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("audit: key file: %w", err)
	}
	var secret [32]byte
	_, _ = rand.Read(secret[:]) // crypto/rand.Read never fails on supported platforms.
	var kid [4]byte
	_, _ = rand.Read(kid[:])
	line := "k" + hex.EncodeToString(kid[:]) + ":" + base64.StdEncoding.EncodeToString(secret[:]) + "\n"
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("audit: key file: %w", err)
	}
	_, err = f.WriteString("# mcpkit audit keys, oldest first: kid:secret (base64). Append a new line to rotate.\n" + line)
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return nil, false, fmt.Errorf("audit: key file: %w", err)
	}
	k, err = ReadKeyFile(path)
	return k, err == nil, err
}

// IDs returns the key ids, oldest first.
func (k *Keyring) IDs() []string {
	ids := make([]string, len(k.keys))
	for i, key := range k.keys {
		ids[i] = key.ID
	}
	return ids
}

// current is the key that seals new records.
func (k *Keyring) current() Key { return k.keys[len(k.keys)-1] }

// mac returns an HMAC-SHA-256 under the key kid, or false for an unknown
// kid.
func (k *Keyring) mac(kid string) (hash.Hash, bool) {
	secret, ok := k.byID[kid]
	if !ok {
		return nil, false
	}
	return hmac.New(sha256.New, secret), true
}

// String never shows a secret.
func (k *Keyring) String() string { return "audit.Keyring" + fmt.Sprint(k.IDs()) }

// GoString never shows a secret.
func (k *Keyring) GoString() string { return k.String() }

func validKid(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// String never shows the secret.
func (k Key) String() string { return "audit.Key{" + k.ID + "}" }

// GoString never shows the secret.
func (k Key) GoString() string { return k.String() }
