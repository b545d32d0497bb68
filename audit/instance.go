package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// rotatedSuffix is how a rotated file's name ends before its extension.
var rotatedSuffix = regexp.MustCompile(`\.[0-9]{6,}$`)

// MaxInstanceLen bounds an instance id: it names a file
// (audit/{instance}.jsonl) and goes into every record.
const MaxInstanceLen = 64

// WithInstance names the process writing the log, a replica of a fleet:
// the genesis, checkpoint and recovery lines and every record carry it
// (member "instance", sealed with the record), so a reader can tell which
// replica served a call, and a witness shared by several replicas keeps
// each one's logs apart. Keep it stable across restarts of the replica
// (a StatefulSet ordinal, a host name): a replica that restarts on a new
// file under its old id finds its lost log in the witness. id is 1 to 64
// characters of A-Z a-z 0-9 . _ -, not starting with '.' (CheckInstance
// says what else). Default: DefaultInstance(path).
func WithInstance(id string) FileOption {
	return func(c *fileConfig) {
		if err := CheckInstance(id); err != nil {
			c.errs = append(c.errs, fmt.Errorf("audit: WithInstance: %w", err))
			return
		}
		c.instance = id
	}
}

// CheckInstance reports whether id can be an instance id: 1 to
// MaxInstanceLen characters of A-Z a-z 0-9 . _ -, not starting with '.'
// (so it is a file name, never a path or a hidden file), and not ending
// in '.' and six or more digits (the suffix of a rotated file: ID.jsonl
// would read as a rotated file of another log).
func CheckInstance(id string) error {
	if id == "" || len(id) > MaxInstanceLen || id[0] == '.' {
		return fmt.Errorf("instance id %q: use 1 to %d characters of A-Z a-z 0-9 . _ -, not starting with '.'", id, MaxInstanceLen)
	}
	if rotatedSuffix.MatchString(id) {
		return fmt.Errorf("instance id %q ends like a rotated file (.000001): %s.jsonl would be read as a rotated file of %s.jsonl", id, id, rotatedSuffix.ReplaceAllString(id, ""))
	}
	for _, c := range id {
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '.' && c != '_' && c != '-' {
			return fmt.Errorf("instance id %q: %q is not allowed; use 1 to %d characters of A-Z a-z 0-9 . _ -, not starting with '.'", id, c, MaxInstanceLen)
		}
	}
	return nil
}

// DefaultInstance is the instance id of a log at path when none is given:
// the host name (cut to 55 characters, other characters replaced by '-')
// and 8 hex digits of the SHA-256 of path made absolute. It is stable
// across restarts (a replaced log is found in the witness) and differs
// between two logs of one host (they are two writers). A fleet names its
// replicas instead (WithInstance).
func DefaultInstance(path string) string {
	host, _ := os.Hostname()
	var b strings.Builder
	for _, c := range host {
		if b.Len() >= MaxInstanceLen-9 {
			break
		}
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '.' && c != '_' && c != '-' {
			c = '-'
		}
		b.WriteRune(c)
	}
	name := strings.TrimLeft(b.String(), ".")
	if name == "" {
		name = "host"
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	sum := sha256.Sum256([]byte(path))
	return name + "-" + hex.EncodeToString(sum[:4])
}
