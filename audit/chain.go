package audit

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"strconv"
)

// The chain. A sealed line is
//
//	canonical = {...record fields...,"seq":N,"prev_hash":"P","kid":"K"}
//	hash      = hex(HMAC-SHA-256(key K, canonical || P))
//	line      = canonical without its final '}' + ,"hash":"<hash>"} + '\n'
//
// so the canonical bytes are recovered from a line by cutting the final
// hash member off, without re-encoding anything. A log written with
// WithInsecureNoKey has no "kid" member and hash = SHA-256(canonical || P):
// anyone who can write the file can recompute it. The first record of a
// chain has seq 1 and prev_hash GenesisHash.

// GenesisHash is the prev_hash of the first record of a chain.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// Kinds of the lines the file sink writes itself. A call's record has no
// kind.
const (
	// KindGenesis starts every file of a log: server, host, log id,
	// instance, file number; its seq and prev_hash link it to the file
	// before.
	KindGenesis = "genesis"
	// KindCheckpoint is written every N records or T seconds, at open and
	// at close, and sent to the witnesses.
	KindCheckpoint = "checkpoint"
	// KindRecovery puts on record a torn last line that Open cut after a
	// crash: its line number, byte count and SHA-256.
	KindRecovery = "recovery"
)

var hashMember = []byte(`,"hash":"`)

// sealer seals lines with the newest key of a keyring, or unkeyed. It
// keeps its HMAC state between lines: one goroutine at a time uses it.
type sealer struct {
	keys *Keyring // nil: unkeyed SHA-256
	mac  hash.Hash
}

func newSealer(keys *Keyring) *sealer {
	s := &sealer{keys: keys}
	if keys != nil {
		s.mac = hmac.New(sha256.New, keys.current().Secret)
	}
	return s
}

// seal appends the sealed line for body (a record marshalled without chain
// fields) at seq after prev to dst, and returns it with the new hash and
// the key id used.
func (s *sealer) seal(dst, body []byte, seq uint64, prev string) ([]byte, string, string) {
	start := len(dst)
	dst = append(dst, body[:len(body)-1]...)
	if len(body) > 2 {
		dst = append(dst, ',')
	}
	dst = append(dst, `"seq":`...)
	dst = strconv.AppendUint(dst, seq, 10)
	dst = append(dst, `,"prev_hash":"`...)
	dst = append(dst, prev...)
	var kid string
	if s.keys != nil {
		kid = s.keys.current().ID
		dst = append(dst, `","kid":"`...)
		dst = append(dst, kid...)
	}
	dst = append(dst, `"}`...)
	var sum [sha256.Size]byte
	var digest []byte
	if s.keys != nil {
		s.mac.Reset()
		s.mac.Write(dst[start:])
		s.mac.Write([]byte(prev))
		digest = s.mac.Sum(sum[:0])
	} else {
		h := sha256.New()
		h.Write(dst[start:])
		h.Write([]byte(prev))
		digest = h.Sum(sum[:0])
	}
	hash := hex.EncodeToString(digest)
	dst = dst[:len(dst)-1]
	dst = append(dst, hashMember...)
	dst = append(dst, hash...)
	dst = append(dst, "\"}\n"...)
	return dst, hash, kid
}

// sealed is what a line says about its place in the chain, once its hash
// is checked.
type sealed struct {
	Seq      uint64 `json:"seq"`
	PrevHash string `json:"prev_hash"`
	Kid      string `json:"kid"`
	Kind     string `json:"kind"`
	Log      string `json:"log"`
	Instance string `json:"instance"`
	File     int    `json:"file"`
	Time     string `json:"time"`
	// A genesis line's predecessor.
	PredLog  string `json:"pred_log"`
	PredSeq  uint64 `json:"pred_seq"`
	PredHash string `json:"pred_hash"`
	// A recovery line's cut.
	CutBytes  int64  `json:"cut_bytes"`
	CutSHA256 string `json:"cut_sha256"`
	CutLine   int    `json:"cut_line"`
	// A call's record, counted (RecordCounts).
	Phase    string `json:"phase"`
	Outcome  string `json:"outcome"`
	Tool     string `json:"tool"`
	Refusals *struct {
		Count int `json:"count"`
	} `json:"refusals"`
	hash string
}

// lineError is why one line cannot be trusted; kind is a Problem* value.
type lineError struct {
	kind, reason string
}

func (e *lineError) Error() string { return e.reason }

// open parses one line (without its newline) and checks its hash with
// keys (nil: an unkeyed log). On a hash mismatch it still returns what
// the line claims, so that the verifier can go on with the next line.
func open(line []byte, keys *Keyring) (sealed, *lineError) {
	var p sealed
	i := bytes.LastIndex(line, hashMember)
	if i < 0 {
		return p, &lineError{ProblemMalformed, "not a sealed audit record (no trailing hash member)"}
	}
	rest := line[i+len(hashMember):]
	if len(rest) != 64+2 || string(rest[64:]) != `"}` || !isHex(rest[:64]) {
		return p, &lineError{ProblemMalformed, "not a sealed audit record (no trailing hash member)"}
	}
	got := string(rest[:64])
	canonical := make([]byte, 0, i+1)
	canonical = append(append(canonical, line[:i]...), '}')
	if err := json.Unmarshal(canonical, &p); err != nil {
		return sealed{}, &lineError{ProblemMalformed, fmt.Sprintf("malformed record: %v", err)}
	}
	p.hash = got
	if p.Seq == 0 {
		return p, &lineError{ProblemMalformed, "record has no seq"}
	}
	var want []byte
	switch {
	case keys == nil && p.Kid != "":
		return p, &lineError{ProblemUnknownKey, fmt.Sprintf("seq %d is sealed with key %q; give the keyring to verify it", p.Seq, p.Kid)}
	case keys == nil:
		sum := sha256.Sum256(append(canonical, p.PrevHash...))
		want = sum[:]
	case p.Kid == "":
		return p, &lineError{ProblemUnauthenticated, fmt.Sprintf("seq %d carries no key id: it was not written by a keyed sink (rewritten without the key?)", p.Seq)}
	default:
		h, ok := keys.mac(p.Kid)
		if !ok {
			return p, &lineError{ProblemUnknownKey, fmt.Sprintf("seq %d is sealed with key %q, which is not in the keyring %v", p.Seq, p.Kid, keys.IDs())}
		}
		h.Write(canonical)
		h.Write([]byte(p.PrevHash))
		want = h.Sum(nil)
	}
	gotRaw, _ := hex.DecodeString(got)
	if !hmac.Equal(want, gotRaw) {
		if keys == nil {
			return p, &lineError{ProblemAltered, fmt.Sprintf("hash mismatch at seq %d: the record was altered", p.Seq)}
		}
		return p, &lineError{ProblemAltered, fmt.Sprintf("MAC mismatch at seq %d: the record was altered or re-sealed without the key", p.Seq)}
	}
	return p, nil
}

func isHex(b []byte) bool {
	for _, c := range b {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
