package audit

import (
	"crypto/hmac"
	"encoding/hex"
	"errors"
	"strconv"
	"time"
)

// marker is the body of a line the file sink writes itself: the genesis
// line at the top of every file and the checkpoints.
type marker struct {
	Kind     string      `json:"kind"`
	Time     Time        `json:"time"`
	Server   *ServerInfo `json:"server,omitempty"`
	Host     string      `json:"host,omitempty"`
	Log      string      `json:"log"`
	Instance string      `json:"instance"`
	// File is the number of the file a genesis line starts: 1 for the
	// first, n for the one rotated to NAME.00000n.jsonl.
	File int `json:"file,omitempty"`
	// PredLog, PredSeq and PredHash name, in the genesis line of a new
	// log, the log it was started in place of: one the witness holds
	// checkpoints of, up to PredSeq with hash PredHash, that was gone.
	PredLog  string `json:"pred_log,omitempty"`
	PredSeq  uint64 `json:"pred_seq,omitempty"`
	PredHash string `json:"pred_hash,omitempty"`
	// Reason says why a checkpoint was written: records, interval, open
	// or close.
	Reason string `json:"reason,omitempty"`
	// CutLine, CutBytes and CutSHA256 describe, in a recovery line, the
	// torn last line Open cut: where it was, its size and its SHA-256.
	CutLine   int    `json:"cut_line,omitempty"`
	CutBytes  int64  `json:"cut_bytes,omitempty"`
	CutSHA256 string `json:"cut_sha256,omitempty"`
}

// Checkpoint is what the file sink sends to its witnesses: the seq and
// hash of a checkpoint line it has written and fsynced, signed with the
// log's key so that a copy of it cannot be forged either. A verifier given
// the checkpoints finds records cut from the end of the log up to the last
// one.
type Checkpoint struct {
	// Log identifies the log (all its files): the id in its genesis lines.
	Log string `json:"log"`
	// Instance identifies the process that wrote the checkpoint.
	Instance string `json:"instance"`
	Seq      uint64 `json:"seq"`
	Hash     string `json:"hash"`
	Time     Time   `json:"time"`
	// Reason is why the checkpoint was written: records, interval, open,
	// close.
	Reason string `json:"reason,omitempty"`
	// Kid and MAC sign the fields above (HMAC-SHA-256); both are empty
	// for an unkeyed log.
	Kid string `json:"kid,omitempty"`
	MAC string `json:"mac,omitempty"`
}

// checkpointMessage is what a checkpoint's MAC covers. The prefix keeps
// it apart from a record's MAC input, which starts with '{'.
func checkpointMessage(c Checkpoint) []byte {
	b := make([]byte, 0, 192)
	b = append(b, "mcpkit-audit-checkpoint/1\x00"...)
	b = append(b, c.Log...)
	b = append(b, 0)
	b = append(b, c.Instance...)
	b = append(b, 0)
	b = strconv.AppendUint(b, c.Seq, 10)
	b = append(b, 0)
	b = append(b, c.Hash...)
	b = append(b, 0)
	b = c.Time.UTC().AppendFormat(b, timeLayout)
	b = append(b, 0)
	b = append(b, c.Reason...)
	return b
}

// sign sets c's Kid and MAC with the newest key of keys (nil: unsigned).
func (c *Checkpoint) sign(keys *Keyring) {
	if keys == nil {
		return
	}
	k := keys.current()
	h, _ := keys.mac(k.ID)
	h.Write(checkpointMessage(*c))
	c.Kid, c.MAC = k.ID, hex.EncodeToString(h.Sum(nil))
}

// verify checks c's MAC with keys (nil: unkeyed, nothing to check).
func (c Checkpoint) verify(keys *Keyring) error {
	if keys == nil {
		return nil
	}
	if c.Kid == "" || c.MAC == "" {
		return errors.New("the checkpoint is not signed")
	}
	h, ok := keys.mac(c.Kid)
	if !ok {
		return errors.New("the checkpoint is signed with key " + strconv.Quote(c.Kid) + ", which is not in the keyring")
	}
	h.Write(checkpointMessage(c))
	got, err := hex.DecodeString(c.MAC)
	if err != nil || !hmac.Equal(got, h.Sum(nil)) {
		return errors.New("the checkpoint's MAC does not verify: it was forged or altered")
	}
	return nil
}

// checkpointPolicy decides when the sink writes a checkpoint line.
type checkpointPolicy struct {
	every    int           // records since the last checkpoint
	interval time.Duration // time since the last checkpoint, if records were written
}
