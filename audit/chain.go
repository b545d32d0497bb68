package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
)

// The hash chain. A sealed line is
//
//	canonical = {...record fields...,"seq":N,"prev_hash":"P"}
//	hash      = hex(SHA-256(canonical || P))
//	line      = canonical without its final '}' + ,"hash":"<hash>"} + '\n'
//
// so the canonical bytes are recovered from a line by cutting the final
// hash member off, without re-encoding anything. The first record of a
// chain has seq 1 and prev_hash GenesisHash.

// GenesisHash is the prev_hash of the first record of a chain.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

var hashMember = []byte(`,"hash":"`)

// seal appends the sealed line for body (a record marshalled without chain
// fields) at seq after prev to dst, and returns it with the new hash.
func seal(dst, body []byte, seq uint64, prev string) ([]byte, string) {
	start := len(dst)
	dst = append(dst, body[:len(body)-1]...)
	dst = append(dst, `,"seq":`...)
	dst = strconv.AppendUint(dst, seq, 10)
	dst = append(dst, `,"prev_hash":"`...)
	dst = append(dst, prev...)
	dst = append(dst, `"}`...)
	h := sha256.New()
	h.Write(dst[start:])
	h.Write([]byte(prev))
	var sum [sha256.Size]byte
	hash := hex.EncodeToString(h.Sum(sum[:0]))
	dst = dst[:len(dst)-1]
	dst = append(dst, hashMember...)
	dst = append(dst, hash...)
	dst = append(dst, "\"}\n"...)
	return dst, hash
}

// chain follows a hash chain line by line.
type chain struct {
	seq     uint64
	hash    string
	started bool
}

// next checks one line (without its newline) against the chain so far and
// advances it. The first line of a chain that does not start at seq 1 is
// taken as the anchor: its prev_hash cannot be checked.
func (c *chain) next(line []byte) error {
	i := bytes.LastIndex(line, hashMember)
	if i < 0 {
		return fmt.Errorf("not a sealed audit record (no trailing hash member)")
	}
	rest := line[i+len(hashMember):]
	if len(rest) != 64+2 || string(rest[64:]) != `"}` || !isHex(rest[:64]) {
		return fmt.Errorf("not a sealed audit record (no trailing hash member)")
	}
	got := string(rest[:64])
	canonical := make([]byte, 0, i+1)
	canonical = append(append(canonical, line[:i]...), '}')
	var pos struct {
		Seq      uint64 `json:"seq"`
		PrevHash string `json:"prev_hash"`
	}
	if err := json.Unmarshal(canonical, &pos); err != nil {
		return fmt.Errorf("malformed record: %v", err)
	}
	h := sha256.New()
	h.Write(canonical)
	h.Write([]byte(pos.PrevHash))
	if want := hex.EncodeToString(h.Sum(nil)); want != got {
		return fmt.Errorf("hash mismatch at seq %d: the record was altered", pos.Seq)
	}
	switch {
	case !c.started:
		if pos.Seq == 0 {
			return fmt.Errorf("record has no seq")
		}
		if pos.Seq == 1 && pos.PrevHash != GenesisHash {
			return fmt.Errorf("seq 1 must have the genesis prev_hash")
		}
	case pos.Seq != c.seq+1:
		return fmt.Errorf("seq %d follows seq %d: records were removed, reordered or duplicated", pos.Seq, c.seq)
	case pos.PrevHash != c.hash:
		return fmt.Errorf("prev_hash of seq %d does not match the hash of seq %d: records were removed or reordered", pos.Seq, c.seq)
	}
	c.seq, c.hash, c.started = pos.Seq, got, true
	return nil
}

func isHex(b []byte) bool {
	for _, c := range b {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
