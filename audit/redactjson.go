package audit

import (
	"encoding/json"
	"slices"
	"strconv"
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
//
// What needs no change is copied lazily: in[mark:pos] is input not yet
// copied to out, copied in one piece when something is rewritten
// (replace), when whitespace is dropped (space) and at the end, so that a
// document with nothing to mask is copied with one append.
type jsonPass struct {
	r     *Redactor
	in    []byte
	pos   int
	mark  int
	out   []byte
	paths []string
	path  []byte
	depth int
}

// redactJSON returns the redacted form of raw (trimmed, not empty): raw
// itself when nothing in it changed, else a new slice; and reports whether
// raw was exactly one valid JSON value.
func (r *Redactor) redactJSON(raw []byte, paths []string) ([]byte, bool) {
	p := jsonPass{r: r, in: raw, paths: paths}
	if !p.value() {
		return p.out, false
	}
	p.space()
	if p.pos != len(p.in) {
		return p.out, false
	}
	if p.out == nil && p.mark == 0 {
		// Nothing was masked, renamed or re-encoded: the document is its
		// own redaction, and copying it would be the pass's largest cost.
		// The capacity is capped so that an append cannot write into raw.
		return p.in[:len(p.in):len(p.in)], true
	}
	p.copyTo(len(p.in))
	return p.out, true
}

// copyTo copies the input up to i, unchanged. The first copy sizes the
// output for the whole input, so a pass allocates once.
func (p *jsonPass) copyTo(i int) {
	if p.out == nil {
		p.out = make([]byte, 0, len(p.in)+32)
	}
	p.out = append(p.out, p.in[p.mark:i]...)
	p.mark = i
}

// replace copies the input up to from and skips it up to to: what
// replaces in[from:to] is appended next.
func (p *jsonPass) replace(from, to int) {
	p.copyTo(from)
	p.mark = to
}

// space skips whitespace, which the output leaves out: a record is one
// line.
func (p *jsonPass) space() {
	if p.pos < len(p.in) && isJSONSpace(p.in[p.pos]) {
		i := p.pos
		for p.pos++; p.pos < len(p.in) && isJSONSpace(p.in[p.pos]); p.pos++ {
		}
		p.replace(i, p.pos)
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
	start = i
	high := false
	// st tracks the current base64 run without a branch per byte: its
	// length in the low bits and the letter cases seen in it at
	// kindShift; spaces and punctuation (not in the alphabet) clear it,
	// at no predictable rhythm. It reaches b64Found once the run is long
	// enough and has letters of both cases. Testing at every byte is the
	// same as testing where a run ends, as a run only grows.
	st, b64 := uint64(0), uint64(0)
	// t holds the three bytes from i on: a keyword can begin at i only if
	// their hash has its bit in pf.tri (two bytes are always there: a
	// valid string ends with a quote).
	var t uint32
	if i+1 < len(in) {
		t = uint32(in[i])<<8 | uint32(in[i+1])
	}
	for i+2 < len(in) {
		c := in[i]
		t = t<<8 | uint32(in[i+2])
		k := pf.cls[c]
		if k&clsStop != 0 {
			switch {
			case c == '"':
				if high && !utf8.Valid(in[start:i]) {
					return p.closeString(start, i, false)
				}
				h.base64 = h.base64 || int64(b64) < 0
				return p.closeString(start, i, true)
			case c == '\\':
				return p.scanEscaped(start, i)
			case c < 0x20:
				return 0, 0, false, false
			}
			high = true
		}
		st = (st + 1 | pf.kind[c]) & -uint64(k&clsB64)
		b64 |= b64Found - 1 - st // negative once st reaches b64Found
		if x := triHash(t); pf.tri[x/64]&(1<<(x%64)) != 0 {
			matchAt(pf, in, i, h)
		}
		i++
	}
	// The last two bytes of the input: no keyword fits in what is left
	// of a string there before its closing quote.
	for ; i < len(in); i++ {
		switch c := in[i]; {
		case c == '"':
			if high && !utf8.Valid(in[start:i]) {
				return p.closeString(start, i, false)
			}
			h.base64 = h.base64 || int64(b64) < 0
			return p.closeString(start, i, true)
		case c == '\\':
			return p.scanEscaped(start, i)
		case c < 0x20:
			return 0, 0, false, false
		case c >= 0x80:
			high = true
		}
		k := pf.cls[in[i]]
		st = (st + 1 | pf.kind[in[i]]) & -uint64(k&clsB64)
		b64 |= b64Found - 1 - st
	}
	return 0, 0, false, false
}

// closeString ends a string whose closing quote is at i.
func (p *jsonPass) closeString(start, i int, plain bool) (int, int, bool, bool) {
	p.pos = i + 1
	return start, i, plain, true
}

// scanEscaped checks the rest of a string from its first backslash at i.
// An escaped string is decoded and scanned again, so the prefilter has
// nothing more to find in it.
func (p *jsonPass) scanEscaped(start, i int) (int, int, bool, bool) {
	in := p.in
	for i < len(in) {
		switch c := in[i]; {
		case c == '"':
			return p.closeString(start, i, false)
		case c == '\\':
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
		case c < 0x20:
			return 0, 0, false, false
		default:
			i++
		}
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
		return
	}
	p.replace(start-1, end+1)
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
	p.space()
	if p.pos < len(p.in) && p.in[p.pos] == '}' {
		p.pos++
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
				for i := 2; slices.Contains(renamed, name); i++ {
					name = base + "#" + strconv.Itoa(i)
				}
				renamed = append(renamed, name)
				p.replace(start-1, end+1)
				p.out = appendJSONString(p.out, name)
			}
			rawKey = nil
		}
		p.space()
		if p.pos >= len(p.in) || p.in[p.pos] != ':' {
			return false
		}
		p.pos++
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
			masked = masked || slices.Contains(p.paths, string(p.path))
		}
		if masked {
			p.space()
			p.copyTo(p.pos)
			mark := len(p.out)
			if !p.value() {
				return false
			}
			p.out = append(p.out[:mark], `"`+Redacted+`"`...)
			p.mark = p.pos
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
	p.space()
	if p.pos < len(p.in) && p.in[p.pos] == ']' {
		p.pos++
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
		return true, true
	case closing:
		p.pos++
		return false, true
	}
	return false, false
}
