package audit

import (
	"encoding/json"
	"unicode/utf8"
	"unsafe"
)

// maxJSONDepth is the nesting encoding/json accepts; deeper input is kept
// as a redacted string like any other input that is not JSON.
const maxJSONDepth = 10000

// jsonPass redacts one JSON document in a single pass over its bytes: it
// validates as it goes, copies what needs no change, and rewrites only
// strings the prefilter flags (or that need re-encoding) and values under
// secret keys or at redacted paths. No document tree is built.
type jsonPass struct {
	r     *Redactor
	in    []byte
	pos   int
	out   []byte
	paths []string
	path  []byte
	depth int
}

// appendJSON appends the redacted form of raw (trimmed, not empty) to dst
// and reports whether raw was exactly one valid JSON value.
func (r *Redactor) appendJSON(dst, raw []byte, paths []string) ([]byte, bool) {
	p := jsonPass{r: r, in: raw, out: dst, paths: paths}
	if !p.value() {
		return p.out, false
	}
	p.space()
	return p.out, p.pos == len(p.in)
}

func (p *jsonPass) space() {
	for p.pos < len(p.in) && isJSONSpace(p.in[p.pos]) {
		p.pos++
	}
}

func (p *jsonPass) value() bool {
	p.space()
	if p.pos >= len(p.in) {
		return false
	}
	switch c := p.in[p.pos]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		h := p.r.newHits()
		start, end, plain, ok := p.scanString(&h)
		if !ok {
			return false
		}
		p.appendString(start, end, plain, &h)
		return true
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		return p.number()
	}
	return false
}

func (p *jsonPass) literal(lit string) bool {
	if len(p.in)-p.pos < len(lit) || string(p.in[p.pos:p.pos+len(lit)]) != lit {
		return false
	}
	p.out = append(p.out, lit...)
	p.pos += len(lit)
	return true
}

// number checks the JSON number grammar and copies the number as written.
func (p *jsonPass) number() bool {
	in, i := p.in, p.pos
	if in[i] == '-' {
		i++
	}
	switch {
	case i < len(in) && in[i] == '0':
		i++
	case i < len(in) && '1' <= in[i] && in[i] <= '9':
		for i < len(in) && isDigit(in[i]) {
			i++
		}
	default:
		return false
	}
	if i < len(in) && in[i] == '.' {
		i++
		if i >= len(in) || !isDigit(in[i]) {
			return false
		}
		for i < len(in) && isDigit(in[i]) {
			i++
		}
	}
	if i < len(in) && (in[i] == 'e' || in[i] == 'E') {
		i++
		if i < len(in) && (in[i] == '+' || in[i] == '-') {
			i++
		}
		if i >= len(in) || !isDigit(in[i]) {
			return false
		}
		for i < len(in) && isDigit(in[i]) {
			i++
		}
	}
	p.out = append(p.out, in[p.pos:i]...)
	p.pos = i
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// scanString checks the string at pos (its opening quote) and moves past
// it. start and end bound its raw contents; plain means they are the
// string itself: no escapes, valid UTF-8. In the same pass it runs the
// prefilter over the contents into h (meaningful when plain).
func (p *jsonPass) scanString(h *hits) (start, end int, plain, ok bool) {
	pf := p.r.pre
	in := p.in
	i := p.pos + 1
	start, plain = i, true
	high, b64 := false, false
	// run and kinds track the current base64 run without a branch per
	// byte (mask is all ones inside the alphabet, zero outside): spaces
	// and punctuation end runs at no predictable rhythm. Testing at every
	// byte is the same as testing where a run ends, as a run only grows.
	run, kinds := uint32(0), uint32(0)
	for i < len(in) {
		c := in[i]
		k := pf.cls[c]
		if k&clsStop != 0 {
			switch {
			case c == '"':
				if high && plain && !utf8.Valid(in[start:i]) {
					plain = false
				}
				h.base64 = h.base64 || b64
				p.pos = i + 1
				return start, i, plain, true
			case c == '\\':
				// An escaped string is decoded and scanned again, so
				// the prefilter's finding on it no longer matters.
				plain = false
				if i+1 >= len(in) {
					return 0, 0, false, false
				}
				switch in[i+1] {
				case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
					i += 2
				case 'u':
					if i+6 > len(in) || !isHexByte(in[i+2]) || !isHexByte(in[i+3]) || !isHexByte(in[i+4]) || !isHexByte(in[i+5]) {
						return 0, 0, false, false
					}
					i += 6
				default:
					return 0, 0, false, false
				}
				continue
			case c < 0x20:
				return 0, 0, false, false
			default:
				high = true
			}
		}
		mask := -uint32(k & clsB64)
		run = (run + 1) & mask
		kinds = (kinds | uint32(k)) & mask
		if run >= minBase64Run && kinds&clsMixed == clsMixed {
			b64 = true
		}
		if i+1 < len(in) {
			pr := uint16(c)<<8 | uint16(in[i+1])
			if pf.pairs[pr/64]&(1<<(pr%64)) != 0 {
				matchAt(pf, in, i, h)
			}
		}
		i++
	}
	return 0, 0, false, false
}

func isHexByte(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// appendString writes the string in[start:end] (raw contents), redacted;
// h is the prefilter's finding on it. A plain string that no rule's
// keyword touches and that is short enough is copied byte for byte.
func (p *jsonPass) appendString(start, end int, plain bool, h *hits) {
	short := p.r.maxString <= 0 || end-start <= p.r.maxString
	if plain && short && !p.r.mustRun(h) {
		p.out = append(p.out, p.in[start-1:end+1]...)
		return
	}
	var red string
	var changed bool
	if plain {
		red, changed = p.r.redactHits(p.view(start, end), h)
	} else {
		red, changed = p.r.redact(p.decode(start, end, plain))
	}
	if plain && !changed {
		p.out = append(p.out, p.in[start-1:end+1]...)
		return
	}
	p.out = appendJSONString(p.out, red)
}

// decode returns the string in[start:end] as Go text; a plain one is a
// view of the input (see view).
func (p *jsonPass) decode(start, end int, plain bool) string {
	if plain {
		return p.view(start, end)
	}
	var s string
	_ = json.Unmarshal(p.in[start-1:end+1], &s) // scanString checked it
	return s
}

// view returns in[start:end] as a string without copying it: the input
// is not written during the pass, and no rule keeps the strings it is
// given (a changed string is always a new one), so the view never
// outlives the bytes it shows. This saves an allocation for every string
// a rule has to look at.
func (p *jsonPass) view(start, end int) string {
	if start >= end {
		return ""
	}
	return unsafe.String(&p.in[start], end-start)
}

func (p *jsonPass) enter() bool {
	p.depth++
	return p.depth <= maxJSONDepth
}

func (p *jsonPass) object() bool {
	if !p.enter() {
		return false
	}
	defer func() { p.depth-- }()
	p.pos++ // '{'
	p.out = append(p.out, '{')
	p.space()
	if p.pos < len(p.in) && p.in[p.pos] == '}' {
		p.pos++
		p.out = append(p.out, '}')
		return true
	}
	var renamed []string // keys rewritten in this object, kept distinct
	parent := len(p.path)
	for {
		p.space()
		if p.pos >= len(p.in) || p.in[p.pos] != '"' {
			return false
		}
		h := p.r.newHits()
		start, end, plain, ok := p.scanString(&h)
		if !ok {
			return false
		}
		// A key can carry a credential too ({"ghp_...": 1}); a plain key
		// no rule's keyword touches is used in place, without a copy.
		var key string
		rawKey := p.in[start:end]
		changed := false
		if !plain || p.r.mustRun(&h) || p.r.maxString > 0 && end-start > p.r.maxString {
			key = p.decode(start, end, plain)
			var name string
			if plain {
				name, changed = p.r.redactHits(key, &h)
			} else {
				name, changed = p.r.redact(key)
			}
			if changed {
				base := name
				for i := 2; contains(renamed, name); i++ {
					name = base + "#" + itoa(i)
				}
				renamed = append(renamed, name)
				p.out = appendJSONString(p.out, name)
			}
			rawKey = nil
		}
		if !changed {
			p.out = append(p.out, p.in[start-1:end+1]...)
		}
		p.space()
		if p.pos >= len(p.in) || p.in[p.pos] != ':' {
			return false
		}
		p.pos++
		p.out = append(p.out, ':')
		var masked bool
		if rawKey != nil {
			masked = secretKeyOf(p.r, rawKey)
		} else {
			masked = secretKeyOf(p.r, key)
		}
		if len(p.paths) > 0 {
			if parent > 0 {
				p.path = append(p.path, '.')
			}
			if rawKey != nil {
				p.path = append(p.path, rawKey...)
			} else {
				p.path = append(p.path, key...)
			}
			masked = masked || contains(p.paths, string(p.path))
		}
		if masked {
			mark := len(p.out)
			if !p.value() {
				return false
			}
			p.out = append(p.out[:mark], `"`+Redacted+`"`...)
		} else if !p.value() {
			return false
		}
		p.path = p.path[:parent]
		if more, ok := p.next('}'); !more {
			return ok
		}
	}
}

func (p *jsonPass) array() bool {
	if !p.enter() {
		return false
	}
	defer func() { p.depth-- }()
	p.pos++ // '['
	p.out = append(p.out, '[')
	p.space()
	if p.pos < len(p.in) && p.in[p.pos] == ']' {
		p.pos++
		p.out = append(p.out, ']')
		return true
	}
	// An array's elements share its path: "items.token" masks the token
	// of every item.
	for {
		if !p.value() {
			return false
		}
		if more, ok := p.next(']'); !more {
			return ok
		}
	}
}

// next copies the separator after a member or element: a comma means
// more follow (more), the closing byte ends the container (ok), anything
// else is malformed.
func (p *jsonPass) next(closing byte) (more, ok bool) {
	p.space()
	if p.pos >= len(p.in) {
		return false, false
	}
	switch c := p.in[p.pos]; c {
	case ',':
		p.pos++
		p.out = append(p.out, ',')
		return true, true
	case closing:
		p.pos++
		p.out = append(p.out, closing)
		return false, true
	}
	return false, false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func itoa(i int) string {
	var b [20]byte
	n := len(b)
	for {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			return string(b[n:])
		}
	}
}
