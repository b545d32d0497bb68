package audit

import (
	"encoding/base64"
	"strings"
)

// maskAssignments masks the value of every key=value, key: value,
// "key": "value", key := value (and their escaped-JSON forms) whose key
// names a secret (SecretKey): query strings, env files, YAML, HTTP
// headers, connection strings and JSON held inside a string. Quotes around
// a value are kept, so JSON inside a string stays JSON.
func (r *Redactor) maskAssignments(dst []byte, s string) ([]byte, bool) {
	last, changed := 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '=' && c != ':' {
			continue
		}
		if c == ':' && strings.HasPrefix(s[i:], "://") {
			i += 2
			continue
		}
		key, ok := keyBefore(s, i)
		if !ok || !r.secretKey(key) {
			continue
		}
		vs, ve := valueAfter(s, i, headerLike(key))
		if ve <= vs || strings.HasPrefix(s[vs:], "[REDACTED") {
			continue
		}
		dst = append(dst, s[last:vs]...)
		dst = appendMask(dst, ruleSecretAssignment)
		last, changed = ve, true
		i = ve - 1
	}
	if !changed {
		return dst, false
	}
	return append(dst, s[last:]...), true
}

// keyBefore returns the key that ends just before the separator at i:
// spaces, then an optional quote (possibly escaped), then key characters.
func keyBefore(s string, i int) (string, bool) {
	j := i
	for j > 0 && (s[j-1] == ' ' || s[j-1] == '\t') {
		j--
	}
	if j > 0 && (s[j-1] == '"' || s[j-1] == '\'') {
		j--
		if j > 0 && s[j-1] == '\\' {
			j--
		}
	}
	end := j
	for j > 0 && isKeyChar(s[j-1]) {
		j--
	}
	return s[j:end], j < end
}

func isKeyChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.'
}

// headerLike keys carry a scheme and a credential separated by a space
// ("Authorization: Token abc"), so their value runs to the end of the line.
func headerLike(key string) bool {
	k := strings.ToLower(key)
	return strings.Contains(k, "authorization") || strings.Contains(k, "cookie")
}

// valueAfter returns the bounds of the value after the separator at i:
// inside its quotes when quoted (an escaped \" pair too), else up to a
// space or a delimiter. An empty range means there is no value to mask.
func valueAfter(s string, i int, toEOL bool) (int, int) {
	v := i + 1
	if s[i] == ':' && v < len(s) && s[v] == '=' {
		v++
	}
	for v < len(s) && (s[v] == ' ' || s[v] == '\t') {
		v++
	}
	if v >= len(s) {
		return v, v
	}
	switch q := s[v]; {
	case q == '"' || q == '\'':
		end := v + 1
		for end < len(s) && s[end] != q {
			if s[end] == '\\' && q == '"' {
				end++
			}
			end++
		}
		return v + 1, min(end, len(s))
	case q == '\\' && v+1 < len(s) && s[v+1] == '"':
		end := strings.Index(s[v+2:], `\"`)
		if end < 0 {
			return v + 2, len(s)
		}
		return v + 2, v + 2 + end
	case q == '{' || q == '[':
		return v, v
	}
	end := v
	for end < len(s) && !isValueEnd(s[end], toEOL) {
		end++
	}
	return v, end
}

func isValueEnd(c byte, toEOL bool) bool {
	switch c {
	case '\n', '\r', '"', '\'', '`':
		return true
	case ' ', '\t', '&', ',', ';', '}', ']', ')', '<', '>', '\\':
		return !toEOL
	}
	return false
}

// maxBase64Run bounds the runs worth decoding: user:password is short.
const maxBase64Run = 512

// maskBase64Credentials masks standalone base64 (standard or URL
// alphabet) that decodes to printable "user:password". Only runs of 12 to
// 512 characters with both cases of letters (as base64 of text has; words,
// hex digests and timestamps have not) are decoded, so the cost stays
// bounded.
func (r *Redactor) maskBase64Credentials(dst []byte, s string) ([]byte, bool) {
	last, changed := 0, false
	for i := 0; i < len(s); {
		if !isBase64Char(s[i]) || s[i] == '=' {
			i++
			continue
		}
		j := i
		for j < len(s) && isBase64Char(s[j]) && s[j] != '=' {
			j++
		}
		end := j
		for end < len(s) && end < j+2 && s[end] == '=' {
			end++
		}
		run := s[i:j]
		if len(run) >= minBase64Run && len(run) <= maxBase64Run && mixedCase(run) && decodesToCredential(run) {
			dst = append(dst, s[last:i]...)
			dst = appendMask(dst, ruleBase64Credential)
			last, changed = end, true
		}
		i = end
	}
	if !changed {
		return dst, false
	}
	return append(dst, s[last:]...), true
}

func mixedCase(s string) bool {
	lower, upper := false, false
	for i := 0; i < len(s) && !(lower && upper); i++ {
		c := s[i]
		lower = lower || 'a' <= c && c <= 'z'
		upper = upper || 'A' <= c && c <= 'Z'
	}
	return lower && upper
}

// decodesToCredential decodes run (at most maxBase64Run characters).
func decodesToCredential(run string) bool {
	var src [maxBase64Run]byte
	var dst [maxBase64Run * 3 / 4]byte
	enc := base64.RawStdEncoding
	if strings.ContainsAny(run, "-_") {
		if strings.ContainsAny(run, "+/") {
			return false
		}
		enc = base64.RawURLEncoding
	}
	n, err := enc.Decode(dst[:], src[:copy(src[:], run)])
	if err != nil || n < 3 {
		return false
	}
	return isCredentialPair(dst[:n])
}

// isCredentialPair: printable ASCII, a user of at least one character
// without spaces, one ':', a password of at least one character (spaces
// allowed: passphrases), and not a URL ("http://...").
func isCredentialPair(b []byte) bool {
	colon := -1
	for i, c := range b {
		if c < ' ' || c > '~' || c == ' ' && colon < 0 {
			return false
		}
		if c == ':' && colon < 0 {
			colon = i
		}
	}
	return colon > 0 && colon < len(b)-1 && b[colon+1] != '/'
}

// maskURLPasswords masks the user:password of every URI that carries one
// (scheme://user:password@host, also an empty user: redis://:pw@host),
// keeping the scheme and host readable.
func (r *Redactor) maskURLPasswords(dst []byte, s string) ([]byte, bool) {
	last, changed := 0, false
	for i := 0; i < len(s); {
		k := strings.Index(s[i:], "://")
		if k < 0 {
			break
		}
		start := i + k + 3
		end := start
		colon, at := -1, -1
		for end < len(s) {
			c := s[end]
			if c == '/' || c == '?' || c == '#' || c <= ' ' || c == '"' || c == '\'' || c == '<' || c == '>' {
				break
			}
			if c == ':' && colon < 0 {
				colon = end
			}
			if c == '@' {
				at = end // the last '@' ends the user information
			}
			end++
		}
		if at > start && colon >= start && colon < at-1 && i+k > 0 && isSchemeChar(s[i+k-1]) {
			dst = append(dst, s[last:start]...)
			dst = appendMask(dst, "url_password")
			last, changed = at, true
		}
		i = start
	}
	if !changed {
		return dst, false
	}
	return append(dst, s[last:]...), true
}

func isSchemeChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '.' || c == '-'
}
