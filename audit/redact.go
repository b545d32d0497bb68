package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Redacted replaces a value whose key or path marks it secret.
const Redacted = "[REDACTED]"

// Redactor masks secrets in arguments, results and error text before any
// sink sees them. It is deterministic: the same input always gives the same
// output, so a reviewer holding the original can redact it the same way and
// compare digests. It is safe for concurrent use.
type Redactor struct {
	keysContain []string
	keysExact   []string
	patterns    []Pattern
	maxString   int
	keepPrefix  int
	maxPayload  int
}

// Pattern is a credential shape found in values. Every match is replaced by
// "[REDACTED:<Name>]", or by Replace (a regexp template) when it is set.
type Pattern struct {
	Name string
	Re   *regexp.Regexp
	// Replace, if not empty, is the replacement template ($1 and so on).
	Replace string
	// Hints are substrings one of which every match contains; a value
	// containing none is skipped without running Re. Empty runs Re on
	// every value.
	Hints []string
}

// RedactOption configures a Redactor.
type RedactOption func(*Redactor)

// WithSecretKeys adds key names whose values are always masked. A key
// matches when, lowercased and stripped of '_', '-' and '.', it contains
// one of these (also normalized).
func WithSecretKeys(keys ...string) RedactOption {
	return func(r *Redactor) {
		for _, k := range keys {
			r.keysContain = append(r.keysContain, normalizeKey(k))
		}
	}
}

// WithPattern adds a credential shape.
func WithPattern(p Pattern) RedactOption {
	return func(r *Redactor) { r.patterns = append(r.patterns, p) }
}

// WithMaxString sets the longest string kept whole (bytes, default 2048).
// Longer strings keep a prefix and end with their length and the SHA-256 of
// the redacted string.
func WithMaxString(n int) RedactOption { return func(r *Redactor) { r.maxString = n } }

// WithMaxPayload sets the largest arguments or result kept (bytes of JSON,
// default 16 KiB). Larger ones are replaced by their length and SHA-256.
func WithMaxPayload(n int) RedactOption { return func(r *Redactor) { r.maxPayload = n } }

// DefaultSecretKeys are the key fragments masked by default.
func DefaultSecretKeys() []string {
	return []string{"password", "passwd", "passphrase", "secret", "token", "apikey", "accesskey",
		"authorization", "cookie", "privatekey", "credential", "signingkey", "sessionkey"}
}

// DefaultPatterns are the credential shapes masked by default: JWTs, bearer
// and basic credentials, GitHub tokens, AWS access key ids, Slack tokens,
// PEM private keys, URLs with user:password, and key=value pairs whose key
// names a secret.
func DefaultPatterns() []Pattern {
	return []Pattern{
		{Name: "private_key", Re: regexp.MustCompile(`-----BEGIN[A-Z ]*PRIVATE KEY-----(?s:.*?)(?:-----END[A-Z ]*PRIVATE KEY-----|\z)`), Hints: []string{"PRIVATE KEY"}},
		{Name: "jwt", Re: regexp.MustCompile(`eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`), Hints: []string{"eyJ"}},
		{Name: "bearer", Re: regexp.MustCompile(`(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+`), Hints: []string{"earer", "EARER"}},
		{Name: "basic", Re: regexp.MustCompile(`(?i)\bbasic\s+[A-Za-z0-9+/]{8,}=*`), Hints: []string{"asic ", "ASIC "}},
		{Name: "github_token", Re: regexp.MustCompile(`\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})`), Hints: []string{"gh", "github_pat_"}},
		{Name: "aws_access_key_id", Re: regexp.MustCompile(`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`), Hints: []string{"AKIA", "ASIA"}},
		{Name: "slack_token", Re: regexp.MustCompile(`\bxox[abposr]-[A-Za-z0-9-]{10,}`), Hints: []string{"xox"}},
		{Name: "url_password", Re: regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@`), Replace: "${1}[REDACTED]@", Hints: []string{"://"}},
		{Name: "secret_assignment", Re: regexp.MustCompile(`(?i)\b(password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key)(\s*[=:]\s*)("[^"]*"|[^\s&,;"]+)`), Replace: "${1}${2}[REDACTED]", Hints: []string{"=", ":"}},
	}
}

// NewRedactor returns a redactor with the default secret keys and
// patterns plus the options'.
func NewRedactor(opts ...RedactOption) *Redactor {
	r := &Redactor{
		keysExact:  []string{"auth", "pwd", "pass", "jwt", "bearer"},
		patterns:   DefaultPatterns(),
		maxString:  2048,
		keepPrefix: 128,
		maxPayload: 16 << 10,
	}
	WithSecretKeys(DefaultSecretKeys()...)(r)
	for _, o := range opts {
		o(r)
	}
	if r.keepPrefix > r.maxString {
		r.keepPrefix = r.maxString
	}
	return r
}

func normalizeKey(k string) string {
	k = strings.ToLower(k)
	return strings.Map(func(r rune) rune {
		if r == '_' || r == '-' || r == '.' {
			return -1
		}
		return r
	}, k)
}

// SecretKey reports whether a field named k is masked wherever it appears.
func (r *Redactor) SecretKey(k string) bool {
	n := normalizeKey(k)
	if slices.Contains(r.keysExact, n) {
		return true
	}
	for _, c := range r.keysContain {
		if strings.Contains(n, c) {
			return true
		}
	}
	return false
}

// String masks credential shapes in s and truncates it if it is too long.
func (r *Redactor) String(s string) string {
	for i := range r.patterns {
		p := &r.patterns[i]
		if !hasHint(s, p.Hints) {
			continue
		}
		if p.Replace != "" {
			s = p.Re.ReplaceAllString(s, p.Replace)
		} else {
			s = p.Re.ReplaceAllLiteralString(s, "[REDACTED:"+p.Name+"]")
		}
	}
	if r.maxString > 0 && len(s) > r.maxString {
		sum := sha256.Sum256([]byte(s))
		cut := r.keepPrefix
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = fmt.Sprintf("%s…[truncated: %d bytes, sha256 %s]", s[:cut], len(s), hex.EncodeToString(sum[:]))
	}
	return s
}

func hasHint(s string, hints []string) bool {
	if len(hints) == 0 {
		return true
	}
	for _, h := range hints {
		if strings.Contains(s, h) {
			return true
		}
	}
	return false
}

// JSON redacts a JSON document: values at the given dotted paths and under
// secret keys are masked, every string goes through String, and a document
// larger than the payload limit is replaced by its length and digest. Input
// that is not JSON is kept as a redacted JSON string.
func (r *Redactor) JSON(raw []byte, paths []string) json.RawMessage {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		b, _ := json.Marshal(r.String(string(raw)))
		return r.limit(b)
	}
	return r.Value(v, paths)
}

// Value redacts a decoded JSON value (as encoding/json produces: maps,
// slices, strings, numbers) and returns it marshalled.
func (r *Redactor) Value(v any, paths []string) json.RawMessage {
	v = r.walk(v, "", paths)
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(fmt.Sprintf("[unencodable %T]", v))
	}
	return r.limit(b)
}

func (r *Redactor) limit(b []byte) json.RawMessage {
	if r.maxPayload > 0 && len(b) > r.maxPayload {
		sum := sha256.Sum256(b)
		out, _ := json.Marshal(struct {
			Truncated bool   `json:"truncated"`
			Length    int    `json:"length"`
			SHA256    string `json:"sha256"`
		}{true, len(b), hex.EncodeToString(sum[:])})
		return out
	}
	return b
}

func (r *Redactor) walk(v any, path string, paths []string) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for _, k := range sortedKeys(x) {
			child := x[k]
			p := k
			if path != "" {
				p = path + "." + k
			}
			// A key can carry a credential too ({"ghp_...": 1}): keys go
			// through String like values, kept distinct if two collapse.
			name := r.String(k)
			for i := 2; name != k; i++ {
				if _, taken := out[name]; !taken {
					break
				}
				name = fmt.Sprintf("%s#%d", r.String(k), i)
			}
			if r.SecretKey(k) || slices.Contains(paths, p) {
				out[name] = Redacted
				continue
			}
			out[name] = r.walk(child, p, paths)
		}
		return out
	case []any:
		// An array's elements share its path: "items.token" masks the
		// token of every item.
		for i, child := range x {
			x[i] = r.walk(child, path, paths)
		}
		return x
	case string:
		return r.String(x)
	}
	return v
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
