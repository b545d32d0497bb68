package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"unicode/utf8"
)

// Redacted replaces a value whose key or path marks it secret.
const Redacted = "[REDACTED]"

// Redactor masks secrets in arguments, results and error text before any
// sink sees them, and is what the approval console shows arguments
// through. It is deterministic: the same input always gives the same
// output, so a reviewer holding the original can redact it the same way and
// compare digests. It is safe for concurrent use.
//
// Text is masked by rules (credential families: private keys, cloud, source
// host, chat, payment, AI provider and package registry tokens, connection
// URIs with a password, Authorization schemes, key=value / key: value /
// "key": "value" assignments whose key names a secret, and base64 of
// user:password), each named in its mask "[REDACTED:<rule>]". A keyword
// prefilter runs a rule only on strings holding one of its keywords, so
// ordinary text costs one pass. JSON is redacted in one pass over its
// bytes: values under secret-named keys and at the given paths become
// "[REDACTED]", every string goes through the rules, and everything else is
// copied as it is.
type Redactor struct {
	keysContain []string
	keysExact   []string
	exactLens   uint64 // bit n set: some exact key has n bytes (n < 64)
	keysExclude []string
	rules       []rule
	pre         *prefilter // text keywords, indexed by rule
	keys        *prefilter // secret key fragments, on the normalized key
	always      []uint64   // rules without keywords: run on every string
	words       int        // len of a hits bitset
	base64Rule  int        // index of the base64 rule, or -1
	maxString   int
	keepPrefix  int
	maxPayload  int
	errs        []error
}

// Pattern is an extra credential shape found in values. Every match is
// replaced by "[REDACTED:<Name>]", or by Replace (a regexp template) when
// it is set.
type Pattern struct {
	Name string
	Re   *regexp.Regexp
	// Replace, if not empty, is the replacement template ($1 and so on).
	Replace string
	// Hints are substrings one of which every match contains (compared
	// ignoring ASCII case, at least two bytes each); a value containing
	// none is skipped without running Re. Empty runs Re on every value.
	Hints []string
}

// RedactOption configures a Redactor.
type RedactOption func(*Redactor)

// WithSecretKeys adds key names whose values are always masked. A key
// matches when, lowercased and stripped of '_', '-' and '.', it contains
// one of these (also normalized; at least two characters).
func WithSecretKeys(keys ...string) RedactOption {
	return func(r *Redactor) {
		for _, k := range keys {
			n := normalizeKey(k)
			if len(n) < 2 {
				r.errs = append(r.errs, fmt.Errorf("audit: secret key %q is shorter than two letters once normalized", k))
				continue
			}
			r.keysContain = append(r.keysContain, n)
		}
	}
}

// WithPattern adds a credential shape, run after the built-in rules.
func WithPattern(p Pattern) RedactOption {
	return func(r *Redactor) {
		if p.Name == "" || p.Re == nil {
			r.errs = append(r.errs, errors.New("audit: a redaction Pattern needs a Name and a Re"))
			return
		}
		for _, h := range p.Hints {
			if len(h) < 2 {
				r.errs = append(r.errs, fmt.Errorf("audit: pattern %s: hint %q is shorter than two bytes", p.Name, h))
				return
			}
		}
		ru := rule{id: p.Name, keywords: p.Hints, re: p.Re}
		if p.Replace != "" {
			ru.replace = p.Replace
		}
		r.rules = append(r.rules, ru)
	}
}

// WithMaxString sets the longest string kept whole (bytes, default 2048).
// Longer strings keep a prefix and end with their length and the SHA-256 of
// the redacted string.
func WithMaxString(n int) RedactOption {
	return func(r *Redactor) {
		if n < 0 {
			r.errs = append(r.errs, fmt.Errorf("audit: WithMaxString(%d) is negative", n))
		}
		r.maxString = n
	}
}

// WithMaxPayload sets the largest arguments or result kept (bytes of JSON,
// default 16 KiB). Larger ones are replaced by their length and SHA-256.
func WithMaxPayload(n int) RedactOption {
	return func(r *Redactor) {
		if n < 0 {
			r.errs = append(r.errs, fmt.Errorf("audit: WithMaxPayload(%d) is negative", n))
		}
		r.maxPayload = n
	}
}

// DefaultSecretKeys are the key fragments masked by default.
func DefaultSecretKeys() []string {
	return []string{"password", "passwd", "passphrase", "secret", "token", "apikey", "accesskey",
		"authorization", "cookie", "privatekey", "credential", "signingkey", "sessionkey",
		"accountkey", "masterkey", "encryptionkey", "connectionstring", "authkey"}
}

// defaultExactKeys are masked only when they are the whole (normalized)
// key: as fragments they would catch "author", "passenger" or
// "signature_algorithm". "signature", "X-Amz-Signature", "X-Goog-Signature"
// and "sig" (Azure SAS) sign presigned URLs: whoever holds the URL holds
// the access.
var defaultExactKeys = []string{"auth", "pw", "pwd", "pass", "jwt", "bearer", "sig", "dsn", "dbpass",
	"signature", "xamzsignature", "xgoogsignature"}

// defaultKeyExclusions are endings that make a secret-sounding key name a
// description of a secret rather than one: max_tokens, token_type,
// password_length, secret_name, token_url, private_key_path,
// --password-stdin.
var defaultKeyExclusions = []string{"count", "type", "tokens", "len", "length", "limit", "url", "uri",
	"endpoint", "name", "expiry", "expiresat", "expiresin", "ttl", "policy", "file", "path", "stdin"}

// assignmentKeywords are the words that a key naming a secret contains in
// text, whatever its separators: the prefilter runs the assignment rule
// only on strings holding one; "\u0" for a key written with JSON escapes
// ("p\u0061ssword"). Three bytes or more each: a two-byte keyword makes
// the prefilter's three-byte filter pass 256 times as many triples.
var assignmentKeywords = []string{"pass", "pwd", "pw\"", "pw'", "pw=", "pw:", "pw ", "pw\\", "pw%", `\u0`, "secret", "token", "key", "auth", "cookie", "credential",
	"jwt", "bearer", "sig", "dsn", "connection"}

// NewRedactor returns a redactor with the default rules and secret keys
// plus the options'. An invalid option (a Pattern without a Name or Re, a
// hint or key shorter than two bytes, a negative size) is an error.
func NewRedactor(opts ...RedactOption) (*Redactor, error) {
	r := &Redactor{
		keysExact:   slices.Clone(defaultExactKeys),
		keysExclude: slices.Clone(defaultKeyExclusions),
		rules:       defaultRules(),
		maxString:   2048,
		keepPrefix:  128,
		maxPayload:  16 << 10,
	}
	WithSecretKeys(DefaultSecretKeys()...)(r)
	for _, o := range opts {
		o(r)
	}
	if len(r.rules) > maxRules {
		r.errs = append(r.errs, fmt.Errorf("audit: %d redaction rules, at most %d", len(r.rules), maxRules))
	}
	if err := errors.Join(r.errs...); err != nil {
		return nil, err
	}
	r.errs = nil
	if r.keepPrefix > r.maxString {
		r.keepPrefix = r.maxString
	}
	// The assignment rule runs on strings holding a secret word; a key
	// added by the caller contributes its first two letters.
	kws := make([][]string, len(r.rules))
	r.words = (len(r.rules) + 63) / 64
	r.always = make([]uint64, r.words)
	r.base64Rule = -1
	for i, ru := range r.rules {
		switch {
		case ru.id == ruleSecretAssignment && ru.match != nil:
			kw := slices.Clone(assignmentKeywords)
			for _, k := range r.keysContain[len(DefaultSecretKeys()):] {
				kw = append(kw, k[:2])
			}
			kws[i] = kw
		case ru.id == ruleBase64Credential && ru.match != nil:
			// Run when the prefilter saw a long base64 run.
			r.base64Rule = i
		case len(ru.keywords) == 0:
			r.always[i/64] |= 1 << (i % 64)
		default:
			kws[i] = ru.keywords
		}
	}
	for _, k := range r.keysExact {
		if len(k) < 64 {
			r.exactLens |= 1 << len(k)
		}
	}
	var err error
	if r.pre, err = newPrefilter(kws); err != nil {
		return nil, err
	}
	frag := make([][]string, len(r.keysContain))
	for i, k := range r.keysContain {
		frag[i] = []string{k}
	}
	if r.keys, err = newPrefilter(frag); err != nil {
		return nil, err
	}
	return r, nil
}

// RuleIDs lists the rules in the order they run; each names its masks.
func (r *Redactor) RuleIDs() []string {
	ids := make([]string, len(r.rules))
	for i, ru := range r.rules {
		ids[i] = ru.id
	}
	return ids
}

func isKeySeparator(c byte) bool { return c == '_' || c == '-' || c == '.' }

func normalizeKey(k string) string {
	b := make([]byte, 0, len(k))
	return string(appendNormalizedKey(b, k))
}

func appendNormalizedKey[T string | []byte](dst []byte, k T) []byte {
	for i := 0; i < len(k); i++ {
		if c := k[i]; !isKeySeparator(c) {
			dst = append(dst, lowerByte(c))
		}
	}
	return dst
}

// SecretKey reports whether a field named k is masked wherever it appears.
func (r *Redactor) SecretKey(k string) bool { return secretKeyOf(r, k) }

func (r *Redactor) secretKey(k string) bool { return secretKeyOf(r, k) }

func secretKeyOf[T string | []byte](r *Redactor, k T) bool {
	var buf [64]byte
	n := appendNormalizedKey(buf[:0], k)
	if len(n) < 2 {
		return false
	}
	if len(n) < 64 && r.exactLens&(1<<len(n)) != 0 {
		for _, e := range r.keysExact {
			if string(n) == e {
				return true
			}
		}
	}
	if !r.keys.containsAny(n) {
		return false
	}
	for _, e := range r.keysExclude {
		if len(n) >= len(e) && string(n[len(n)-len(e):]) == e {
			return false
		}
	}
	return true
}

// String masks credential shapes in s and truncates it if it is too long.
func (r *Redactor) String(s string) string {
	out, _ := r.redact(s)
	return out
}

// redact is String, also reporting whether s changed.
func (r *Redactor) redact(s string) (string, bool) {
	h := r.newHits()
	scanText(r.pre, s, &h)
	return r.redactHits(s, &h)
}

// newHits returns an empty prefilter result.
func (r *Redactor) newHits() hits { return hits{} }

// mustRun reports whether any rule has to look at a string with hits h.
func (r *Redactor) mustRun(h *hits) bool {
	for i, w := range r.always {
		if w|h.rules[i] != 0 {
			return true
		}
	}
	return h.base64 && r.base64Rule >= 0
}

// redactHits is redact with the prefilter already run on s.
func (r *Redactor) redactHits(s string, h *hits) (string, bool) {
	changed := false
	if r.mustRun(h) {
		for i, w := range r.always {
			h.rules[i] |= w
		}
		s, changed = r.applyRules(s, h)
	}
	if r.maxString > 0 && len(s) > r.maxString {
		s, changed = r.truncate(s), true
	}
	return s, changed
}

func (r *Redactor) truncate(s string) string {
	sum := sha256.Sum256([]byte(s))
	cut := r.keepPrefix
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s…[truncated: %d bytes, sha256 %s]", s[:cut], len(s), hex.EncodeToString(sum[:]))
}

func (r *Redactor) applyRules(s string, h *hits) (string, bool) {
	changed := false
	var buf []byte
	if h.base64 && r.base64Rule >= 0 {
		h.set(r.base64Rule)
	}
	for i := range r.rules {
		if !h.has(i) {
			continue
		}
		ru := &r.rules[i]
		var ok bool
		if ru.match != nil {
			buf, ok = ru.match(r, buf[:0], s)
		} else {
			buf, ok = ru.apply(buf[:0], s)
		}
		if ok {
			s, changed = string(buf), true
		}
	}
	return s, changed
}

// apply masks every match of a regexp rule.
func (ru *rule) apply(dst []byte, s string) ([]byte, bool) {
	re := ru.regexp()
	if ru.replace != "" {
		if !re.MatchString(s) {
			return dst, false
		}
		return append(dst, re.ReplaceAllString(s, ru.replace)...), true
	}
	ms := re.FindAllStringSubmatchIndex(s, -1)
	if len(ms) == 0 {
		return dst, false
	}
	last, masked := 0, false
	for _, m := range ms {
		lo, hi := m[0], m[1]
		if ru.group > 0 && len(m) > 2*ru.group+1 && m[2*ru.group] >= 0 {
			lo, hi = m[2*ru.group], m[2*ru.group+1]
		}
		if lo < last || hi <= lo || ru.valid != nil && !ru.valid(s[m[0]:m[1]]) {
			continue
		}
		dst = append(dst, s[last:lo]...)
		dst = appendMask(dst, ru.id)
		last, masked = hi, true
	}
	if !masked {
		return dst, false
	}
	return append(dst, s[last:]...), true
}

func appendMask(dst []byte, id string) []byte {
	dst = append(dst, "[REDACTED:"...)
	dst = append(dst, id...)
	return append(dst, ']')
}

// JSON redacts a JSON document: values at the given dotted paths and under
// secret keys are masked, every string goes through String, and a document
// larger than the payload limit is replaced by its length and digest. The
// document's order and numbers are kept and the output is compact. Input
// that is not one JSON value is kept as a redacted JSON string.
//
// When nothing in raw is masked or re-encoded the result is raw itself
// (without surrounding whitespace, its capacity capped so that appending
// to it copies): raw must not be modified afterwards. The audit middleware
// redacts the arguments the SDK decoded and the result the client was
// sent, neither of which changes after the call.
func (r *Redactor) JSON(raw []byte, paths []string) json.RawMessage {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	out, ok := r.redactJSON(raw, paths)
	if !ok {
		out = appendJSONString(out[:0], r.String(string(raw)))
	}
	return r.limit(out)
}

// Value redacts a decoded JSON value (as encoding/json produces: maps,
// slices, strings, numbers) and returns it marshalled.
func (r *Redactor) Value(v any, paths []string) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(fmt.Sprintf("[unencodable %T]", v))
	}
	return r.JSON(b, paths)
}

func (r *Redactor) limit(b []byte) json.RawMessage {
	if r.maxPayload > 0 && len(b) > r.maxPayload {
		sum := sha256.Sum256(b)
		return fmt.Appendf(nil, `{"truncated":true,"length":%d,"sha256":"%s"}`, len(b), hex.EncodeToString(sum[:]))
	}
	return b
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// defaultRedactor is NewRedactor(): its defaults are valid by
// construction, which TestDefaultRedactor checks.
func defaultRedactor() *Redactor {
	r, err := NewRedactor()
	if err != nil {
		panic("audit: the default redactor is invalid: " + err.Error())
	}
	return r
}
