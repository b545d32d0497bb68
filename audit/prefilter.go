package audit

// prefilter finds, in one pass over a string, which rules' keywords occur
// in it (ignoring ASCII case), so that a string with no keyword costs a bit
// test per byte and no rule runs on it. It also notes whether the string
// holds a run of base64 long enough to encode user:password.
type prefilter struct {
	// lists is the only field holding pointers, and it comes first: the
	// garbage collector scans a large object only up to its last pointer,
	// so the tables below are never scanned.
	lists [][]keyword
	// pairs has a bit for every byte pair (in any case) that begins a
	// keyword: 8 KiB, small enough to stay in the L1 cache.
	pairs [1 << 16 / 64]uint64
	// tri has a bit for the hash (triHash) of every three bytes (in any
	// case) that begin a keyword, every third byte for a two-byte one: a
	// finer filter than pairs where both fit, 8 KiB too.
	tri [1 << 16 / 64]uint64
	// slots maps a lowercase byte pair to 1 + an index into lists (0: no
	// keyword begins with it); a small hash table rather than a 64 KiB
	// array: live heap shortens a small server's GC cycles (slots.go).
	slots slotTable
	// cls classes every byte: base64 alphabet (standard and URL-safe),
	// upper or lower case letter, and bytes that stop a plain JSON string
	// (quote, backslash, control, non-ASCII).
	cls [256]uint8
	// kind is cls's letter case of a base64 byte at kindShift, for
	// tracking a base64 run in one word (see jsonPass.scanString).
	kind [256]uint64
}

// kindShift places the letter cases seen in a base64 run above its
// length; b64Found is the first value of a run long enough and with
// letters of both cases.
const (
	kindShift = 40
	b64Found  = uint64(clsMixed)<<kindShift | minBase64Run
)

// triHash maps the three bytes in the low 24 bits of t (the first in the
// highest) to a bit of prefilter.tri.
func triHash(t uint32) uint32 { return (t & 0xffffff) * 0x9e3779b1 >> 16 }

const (
	clsB64   = 1 << iota // in a base64 alphabet
	clsUpper             // A-Z
	clsLower             // a-z
	clsStop              // '"', '\\', < 0x20, >= 0x80
	clsMixed = clsUpper | clsLower
)

type keyword struct {
	text string // lowercase, at least two bytes
	rule int
}

// minBase64Run is the shortest base64 run worth decoding: 12 characters
// encode 9 bytes, enough for "user:pass".
const minBase64Run = 12

func lowerByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func upperByte(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

func pairOf(a, b byte) uint16 { return uint16(lowerByte(a))<<8 | uint16(lowerByte(b)) }

// newPrefilter indexes the keywords of rules (keywords[i] belong to rule
// i). Every keyword has at least two bytes (checked by the caller).
func newPrefilter(keywords [][]string) (*prefilter, error) {
	p := &prefilter{lists: [][]keyword{nil}}
	for i := range 256 {
		c := byte(i)
		if isBase64Char(c) {
			p.cls[c] |= clsB64
		}
		if 'A' <= c && c <= 'Z' {
			p.cls[c] |= clsUpper
		}
		if 'a' <= c && c <= 'z' {
			p.cls[c] |= clsLower
		}
		if c == '"' || c == '\\' || c < 0x20 || c >= 0x80 {
			p.cls[c] |= clsStop
		}
		if p.cls[c]&clsB64 != 0 {
			p.kind[c] = uint64(p.cls[c]&clsMixed) << kindShift
		}
	}
	for rule, kws := range keywords {
		for _, kw := range kws {
			kw = toLower(kw)
			a, b := kw[0], kw[1]
			for _, x := range []byte{a, upperByte(a)} {
				for _, y := range []byte{b, upperByte(b)} {
					pr := uint16(x)<<8 | uint16(y)
					p.pairs[pr/64] |= 1 << (pr % 64)
					for z := range 256 {
						if len(kw) > 2 && byte(z) != kw[2] && byte(z) != upperByte(kw[2]) {
							continue
						}
						t := triHash(uint32(x)<<16 | uint32(y)<<8 | uint32(z))
						p.tri[t/64] |= 1 << (t % 64)
					}
				}
			}
			pr := pairOf(a, b)
			i := p.slots.get(pr)
			if i == 0 {
				if len(p.lists) == 255 {
					return nil, errTooManyKeywords
				}
				i = uint8(len(p.lists))
				p.slots.put(pr, i)
				p.lists = append(p.lists, nil)
			}
			p.lists[i] = append(p.lists[i], keyword{text: kw, rule: rule})
		}
	}
	return p, nil
}

func toLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = lowerByte(c)
	}
	return string(b)
}

// hits is the set of rules whose keyword occurs, plus the base64 flag.
type hits struct {
	rules  [maxRules / 64]uint64
	base64 bool
}

// maxRules bounds the rules of one Redactor (built-in plus patterns).
const maxRules = 256

func (h *hits) set(i int)      { h.rules[i/64] |= 1 << (i % 64) }
func (h *hits) has(i int) bool { return h.rules[i/64]&(1<<(i%64)) != 0 }

// scanText fills h for s. A
// base64 run counts only if it has letters of both cases, as base64 of
// text has and words, hex digests and timestamps have not.
func scanText[T string | []byte](p *prefilter, s T, h *hits) {
	run, kinds := 0, uint8(0) // the current base64 run: length, classes seen
	for i := 0; i < len(s); i++ {
		c := s[i]
		if k := p.cls[c]; k&clsB64 != 0 {
			run++
			kinds |= k
		} else {
			if run >= minBase64Run && kinds&clsMixed == clsMixed {
				h.base64 = true
			}
			run, kinds = 0, 0
		}
		if i+1 == len(s) {
			break
		}
		pr := uint16(c)<<8 | uint16(s[i+1])
		if p.pairs[pr/64]&(1<<(pr%64)) == 0 {
			continue
		}
		matchAt(p, s, i, h)
	}
	if run >= minBase64Run && kinds&clsMixed == clsMixed {
		h.base64 = true
	}
}

// matchAt notes the keywords that begin at s[i:] (their first pair is
// known to be one a keyword begins with).
func matchAt[T string | []byte](p *prefilter, s T, i int, h *hits) {
	idx := p.slots.get(pairOf(s[i], s[i+1]))
	if idx == 0 {
		return
	}
	for _, kw := range p.lists[idx] {
		if hasPrefixFold(s[i:], kw.text) {
			h.set(kw.rule)
		}
	}
}

// hasPrefixFold reports whether s begins with the lowercase prefix,
// ignoring ASCII case.
func hasPrefixFold[T string | []byte](s T, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if lowerByte(s[i]) != prefix[i] {
			return false
		}
	}
	return true
}

func isBase64Char(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '=' || c == '-' || c == '_'
}

// containsAny reports whether s holds any keyword.
func (p *prefilter) containsAny(s []byte) bool {
	for i := 0; i+1 < len(s); i++ {
		pr := uint16(s[i])<<8 | uint16(s[i+1])
		if p.pairs[pr/64]&(1<<(pr%64)) == 0 {
			continue
		}
		idx := p.slots.get(pairOf(s[i], s[i+1]))
		for _, kw := range p.lists[idx] {
			if hasPrefixFold(s[i:], kw.text) {
				return true
			}
		}
	}
	return false
}
