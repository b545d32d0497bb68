package audit

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// maskAssignments masks the value of every key=value, key: value,
// "key": "value", key := value (and their escaped-JSON forms, at any
// depth of escaping, with \uXXXX escapes in the key) and URL-encoded
// key%3Dvalue whose key names a secret (SecretKey): query strings, form
// bodies, env files, YAML, HTTP headers, connection strings and JSON held
// inside a string. Quotes around a value are kept, so JSON inside a string
// stays JSON; an array or object value is masked whole, as one quoted
// mask. A value that is an ordinary word (ordinaryValue) is kept.
func (r *Redactor) maskAssignments(dst []byte, s string) ([]byte, bool) {
	last, changed := 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		sep := 1 // the separator's length
		var vs, ve int
		quote := ""
		switch c {
		case '=', ':':
			if c == ':' && strings.HasPrefix(s[i:], "://") {
				i += 2
				continue
			}
		case '%':
			if sep = encodedSeparator(s[i:]); sep == 0 {
				continue
			}
		case '-', '>':
			// A command-line flag (--password X) or an XML element
			// (<password>X</password>): the key is after the dashes or
			// inside the tag.
			var key string
			if c == '-' {
				key, vs, ve = flagValue(s, i)
			} else {
				key, vs, ve = elementValue(s, i)
			}
			if ve <= vs || !r.secretKey(key) || ordinaryValue(s[vs:ve]) || strings.HasPrefix(s[vs:], "[REDACTED") {
				continue
			}
			dst = append(dst, s[last:vs]...)
			dst = appendMask(dst, ruleSecretAssignment)
			last, changed = ve, true
			i = ve - 1
			continue
		default:
			continue
		}
		kend := i
		if sep > 1 {
			kend -= encodedQuoteBefore(s, i)
		}
		key, ok := keyBefore(s, kend)
		if !ok || !r.secretKey(unescapeKey(key)) {
			continue
		}
		hdr := headerLike(key)
		if sep > 1 {
			vs, ve = encodedValueAfter(s, i+sep)
		} else {
			vs, ve = valueAfter(s, i, hdr)
			quote = quoteBefore(s, i)
		}
		if ve <= vs || strings.HasPrefix(s[vs:], "[REDACTED") || ordinaryValue(s[vs:ve]) {
			continue
		}
		if sep == 1 && !hdr && proseAfterColon(s, i, vs, ve) {
			continue
		}
		if sep == 1 {
			ve = r.nestedValueEnd(s, vs, ve)
		}
		dst = append(dst, s[last:vs]...)
		container := s[vs] == '{' || s[vs] == '['
		if container {
			dst = append(dst, quote...)
		}
		dst = appendMask(dst, ruleSecretAssignment)
		if container {
			dst = append(dst, quote...)
		}
		last, changed = ve, true
		i = ve - 1
	}
	if !changed {
		return dst, false
	}
	return append(dst, s[last:]...), true
}

// nestedValueEnd extends the value [vs, ve) to the end of the value of
// every secret assignment it holds. A value whose quotes do not pair (text
// that echoes a quoted credential once cut and once whole: password="abc…
// then password="abcdef") would otherwise swallow the second key and leave
// its value in clear.
func (r *Redactor) nestedValueEnd(s string, vs, ve int) int {
	for j := vs; j < ve; j++ {
		if c := s[j]; c != '=' && c != ':' || strings.HasPrefix(s[j:], "://") {
			continue
		}
		key, ok := keyBefore(s, j)
		if !ok || !r.secretKey(unescapeKey(key)) {
			continue
		}
		if _, e := valueAfter(s, j, headerLike(key)); e > ve {
			ve = e
		}
	}
	return ve
}

// encodedSeparator returns the length of a URL-encoded '=' or ':' ("%3D",
// "%3A", or "%253D" and "%253A" encoded twice) at the start of s, or 0.
func encodedSeparator(s string) int {
	isSep := func(c byte) bool { return c == 'D' || c == 'd' || c == 'A' || c == 'a' }
	switch {
	case len(s) >= 3 && s[1] == '3' && isSep(s[2]):
		return 3
	case len(s) >= 5 && s[1] == '2' && s[2] == '5' && s[3] == '3' && isSep(s[4]):
		return 5
	}
	return 0
}

// encodedQuote returns the length of a URL-encoded '"' ("%22", or "%2522"
// encoded twice) at the start of s, or 0.
func encodedQuote(s string) int {
	switch {
	case strings.HasPrefix(s, "%22"):
		return 3
	case strings.HasPrefix(s, "%2522"):
		return 5
	}
	return 0
}

// encodedQuoteBefore returns the length of a URL-encoded '"' ending at i
// (the quote closing a key of URL-encoded JSON), or 0.
func encodedQuoteBefore(s string, i int) int {
	switch {
	case i >= 5 && s[i-5:i] == "%2522":
		return 5
	case i >= 3 && s[i-3:i] == "%22":
		return 3
	}
	return 0
}

// flagValue reads a command-line flag at i ("--name value", "--name
// \"value\""): the flag's name and the bounds of its value, or an empty
// range when there is none (the next word is another flag).
func flagValue(s string, i int) (string, int, int) {
	if i+2 >= len(s) || s[i+1] != '-' || i > 0 && isKeyChar(s[i-1]) {
		return "", 0, 0
	}
	k := i + 2
	for k < len(s) && isKeyChar(s[k]) {
		k++
	}
	if k == i+2 || k >= len(s) || s[k] != ' ' && s[k] != '\t' {
		return "", 0, 0
	}
	vs, ve := valueAfter(s, k, false)
	if ve <= vs || s[vs] == '-' {
		return "", 0, 0
	}
	return s[i+2 : k], vs, ve
}

// elementValue reads an XML element whose start tag ends at i
// ("<password>value</password>"): its name and the bounds of its text,
// which its end tag must close ("the <password> field" is prose).
func elementValue(s string, i int) (string, int, int) {
	j := i
	for j > 0 && isKeyChar(s[j-1]) {
		j--
	}
	if j == i || j == 0 || s[j-1] != '<' {
		return "", 0, 0
	}
	end := i + 1
	for end < len(s) && s[end] != '<' && s[end] != '\n' {
		end++
	}
	name := s[j:i]
	if rest := s[end:]; len(rest) < len(name)+3 || rest[0] != '<' || rest[1] != '/' || rest[2:2+len(name)] != name || rest[2+len(name)] != '>' {
		return "", 0, 0
	}
	return name, i + 1, end
}

// encodedValueAfter bounds a URL-encoded value starting at v: inside its
// encoded quotes when it has them (URL-encoded JSON), else up to an
// encoded '&' or ' ' ("%26", "%20", or encoded twice) or a delimiter.
func encodedValueAfter(s string, v int) (int, int) {
	if n := encodedQuote(s[v:]); n > 0 {
		v += n
		end := v
		for end < len(s) && !isValueEnd(s[end], false) && encodedQuote(s[end:]) != n {
			end++
		}
		return v, end
	}
	end := v
	for end < len(s) && !isValueEnd(s[end], false) {
		if s[end] == '%' {
			rest := s[end+1:]
			if strings.HasPrefix(rest, "26") || strings.HasPrefix(rest, "20") ||
				strings.HasPrefix(rest, "2526") || strings.HasPrefix(rest, "2520") {
				break
			}
		}
		end++
	}
	return v, end
}

// quoteBefore returns the quote that closes the key before the separator
// at i with the backslashes escaping it (`"`, `\"`, ...), or "".
func quoteBefore(s string, i int) string {
	j := i
	for j > 0 && (s[j-1] == ' ' || s[j-1] == '\t') {
		j--
	}
	if j == 0 || s[j-1] != '"' {
		return ""
	}
	k := j - 1
	for k > 0 && s[k-1] == '\\' {
		k--
	}
	return s[k:j]
}

// keyBefore returns the key that ends just before the separator at i:
// spaces, then an optional quote (possibly escaped, at any depth), then
// key characters and \uXXXX escapes, stopping at a URL escape (%XX).
func keyBefore(s string, i int) (string, bool) {
	j := i
	for j > 0 && (s[j-1] == ' ' || s[j-1] == '\t') {
		j--
	}
	if j > 0 && (s[j-1] == '"' || s[j-1] == '\'') {
		j--
		for j > 0 && s[j-1] == '\\' {
			j--
		}
	}
	end := j
	for j > 0 {
		c := s[j-1]
		switch {
		case c == '\\' && j+5 <= end && s[j] == 'u' && isHex4(s[j+1:j+5]):
			for j > 0 && s[j-1] == '\\' {
				j--
			}
			continue
		case !isKeyChar(c):
		case j >= 3 && s[j-3] == '%' && isHexByte(s[j-2]) && isHexByte(c):
		default:
			j--
			continue
		}
		break
	}
	return s[j:end], j < end
}

func isHex4(s string) bool {
	return isHexByte(s[0]) && isHexByte(s[1]) && isHexByte(s[2]) && isHexByte(s[3])
}

// unescapeKey resolves the \uXXXX escapes (behind any number of
// backslashes) of a key written in JSON inside a string, so that
// "pass\u0077ord" names a secret as "password" does.
func unescapeKey(k string) string {
	if strings.IndexByte(k, '\\') < 0 {
		return k
	}
	b := make([]byte, 0, len(k))
	for i := 0; i < len(k); i++ {
		if k[i] != '\\' {
			b = append(b, k[i])
			continue
		}
		for i+1 < len(k) && k[i+1] == '\\' {
			i++
		}
		if i+5 < len(k) && k[i+1] == 'u' && isHex4(k[i+2:i+6]) {
			v, _ := strconv.ParseUint(k[i+2:i+6], 16, 16)
			if v < 0x80 {
				b = append(b, byte(v))
			} else {
				b = append(b, k[i+1:i+6]...)
			}
			i += 5
		}
	}
	return string(b)
}

// proseAfterColon reports whether "key: value" at the separator i reads as
// a sentence rather than an assignment: a colon and a space, then an
// unquoted lowercase word, then more words ("auth: login failures spike
// after the deploy", a service name and what happened to it). A credential
// has digits, capitals or symbols, stands alone at the end of its line, or
// is quoted; a lowercase word followed by more text is prose.
func proseAfterColon(s string, i, vs, ve int) bool {
	// vs > i+1: the value starts after the separator and its spaces.
	if s[i] != ':' || s[i+1] != ' ' || s[vs-1] != ' ' {
		return false
	}
	for k := vs; k < ve; k++ {
		if s[k] < 'a' || s[k] > 'z' {
			return false
		}
	}
	return ve+1 < len(s) && s[ve] == ' ' && 'a' <= s[ve+1] && s[ve+1] <= 'z'
}

// ordinaryWords are values that say a credential is absent or describe
// it, never one ("no valid credentials: missing bearer token").
var ordinaryWords = []string{"bearer", "basic", "token", "required", "missing", "invalid", "none", "null",
	"nil", "empty", "undefined", "expired"}

// ordinaryValue reports whether v is one of ordinaryWords, in any case.
func ordinaryValue(v string) bool {
	if len(v) < 3 || len(v) > 9 {
		return false
	}
	for _, w := range ordinaryWords {
		if strings.EqualFold(v, w) {
			return true
		}
	}
	return false
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
// inside its quotes when quoted (escaped quotes at any depth too), the
// whole array or object when it is one, else up to a space or a
// delimiter. An empty range means there is no value to mask.
func valueAfter(s string, i int, toEOL bool) (int, int) {
	v := i + 1
	if v < len(s) && (s[i] == ':' && s[v] == '=' || s[i] == '=' && s[v] == '>') {
		v++ // := and =>
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
	case q == '\\':
		k := v
		for k < len(s) && s[k] == '\\' {
			k++
		}
		if k < len(s) && s[k] == '"' {
			return k + 1, closingQuote(s, k+1, k-v)
		}
	case q == '{' || q == '[':
		return v, containerEnd(s, v)
	}
	end := v
	for end < len(s) && !isValueEnd(s[end], toEOL) {
		end++
	}
	return v, end
}

// closingQuote returns the index of the first quote from i on preceded by
// exactly n backslashes (the closing quote of a string escaped n deep;
// quotes inside it carry more), or len(s). A quote with fewer backslashes
// ends the enclosing string, so the value, left unclosed, ends there too:
// the text after it is read for assignments of its own.
func closingQuote(s string, i, n int) int {
	for ; i < len(s); i++ {
		if s[i] != '"' {
			continue
		}
		k := i
		for k > 0 && s[k-1] == '\\' {
			k--
		}
		if i-k <= n {
			return k
		}
	}
	return len(s)
}

// containerEnd returns the end of the array or object opening at v,
// skipping brackets inside its strings (at the escape depth of its first
// quote), or len(s) when it does not close: the rest is masked.
func containerEnd(s string, v int) int {
	depth, inString, level := 0, false, 0
	for i := v; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			k := i
			for k > 0 && s[k-1] == '\\' {
				k--
			}
			switch n := i - k; {
			case !inString:
				inString, level = true, n
			case n == level:
				inString = false
			}
		case '{', '[':
			if !inString {
				depth++
			}
		case '}', ']':
			if !inString {
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
	}
	return len(s)
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
		switch {
		case base64CredentialRun(run):
			dst = append(dst, s[last:i]...)
			dst = appendMask(dst, ruleBase64Credential)
			last, changed = end, true
		case strings.IndexByte(run, '/') >= 0 && len(run) <= maxBase64Run:
			// '/' is base64 and a path separator: a credential in a
			// path (incident://<b64>, /api/<b64>/x) is one segment.
			for k := i; k < j; {
				e := k + strings.IndexByte(s[k:j], '/')
				if e < k {
					e = j
				}
				if seg := s[k:e]; seg != run && base64CredentialRun(seg) {
					dst = append(dst, s[last:k]...)
					dst = appendMask(dst, ruleBase64Credential)
					last, changed = e, true
					if e == j {
						last = end
					}
				}
				k = e + 1
			}
		}
		i = end
	}
	if !changed {
		return dst, false
	}
	return append(dst, s[last:]...), true
}

// base64CredentialRun reports whether a run of base64 characters is one
// worth decoding (12 to 512 of them, both cases of letters) and decodes to
// user:password.
func base64CredentialRun(run string) bool {
	return len(run) >= minBase64Run && len(run) <= maxBase64Run && mixedCase(run) && decodesToCredential(run)
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
// (scheme://user:password@host, also an empty user: redis://:pw@host) and
// a user that is a key (keyUser), keeping the scheme and host readable.
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
		userPass := at > start && colon >= start && colon < at-1
		if (userPass || at > start && keyUser(s[start:at])) && i+k > 0 && isSchemeChar(s[i+k-1]) {
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

// keyUser reports whether the user part of a URI is a key: 32 or more
// hex digits, as in a Sentry DSN (https://<key>@o1.ingest.sentry.io/2).
func keyUser(u string) bool {
	if len(u) < 32 {
		return false
	}
	for i := 0; i < len(u); i++ {
		if !isHexByte(u[i]) {
			return false
		}
	}
	return true
}

func isSchemeChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '.' || c == '-'
}
