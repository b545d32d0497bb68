package audit

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"
)

// FileOption configures a FileSink. Options are resolved once, in Open; an
// invalid one makes Open fail.
type FileOption func(*fileConfig)

type fileConfig struct {
	syncEvery     time.Duration
	syncEach      bool
	maxBytes      int64
	logger        *slog.Logger
	now           func() time.Time
	sync          func(*os.File) error // fsync (Flush, durable commits); tests hold or fail it
	keys          *Keyring
	insecureNoKey bool
	server        ServerInfo
	cp            checkpointPolicy
	witnesses     []Witness
	instance      string
	errs          []error
}

// WithSyncInterval sets how often written records are fsynced in group
// commit mode (default 200ms). Write returns once its record is written to
// the file (it survives a crash of the process); the interval bounds what a
// power loss can take.
func WithSyncInterval(d time.Duration) FileOption {
	return func(c *fileConfig) { c.syncEvery = d }
}

// WithSyncEachRecord makes Write return only after its record is fsynced.
// Concurrent writes still share one fsync (group commit).
func WithSyncEachRecord() FileOption { return func(c *fileConfig) { c.syncEach = true } }

// WithMaxBytes sets the size at which the file is rotated (default 64 MiB;
// 0 never rotates). The rotated file is renamed NAME.000001.jsonl (for
// NAME.jsonl) and so on, and the chain continues in the new file, which
// starts with its own genesis line.
func WithMaxBytes(n int64) FileOption { return func(c *fileConfig) { c.maxBytes = n } }

// WithFileLogger sets where the sink reports recovery and faults (default:
// discarded).
func WithFileLogger(l *slog.Logger) FileOption { return func(c *fileConfig) { c.logger = l } }

// WithKeyring seals every record with an HMAC-SHA-256 under the newest key
// of k, and verifies the existing chain at Open with all of k's keys. Open
// requires it (or WithInsecureNoKey). The secrets are never written to the
// log.
func WithKeyring(k *Keyring) FileOption {
	return func(c *fileConfig) {
		if k == nil {
			c.errs = append(c.errs, errors.New("audit: WithKeyring(nil): load a keyring with KeyringFromEnv, ReadKeyFile or NewKeyring"))
			return
		}
		c.keys = k
	}
}

// WithInsecureNoKey writes an unkeyed log: plain SHA-256, which anyone who
// can write the file can recompute after rewriting it. It catches
// accidents, not attackers; for throwaway development logs only.
func WithInsecureNoKey() FileOption { return func(c *fileConfig) { c.insecureNoKey = true } }

// WithServerInfo names the server in the log's genesis lines (default: the
// program's name).
func WithServerInfo(name, version string) FileOption {
	return func(c *fileConfig) { c.server = ServerInfo{Name: name, Version: version} }
}

// WithCheckpoints writes a checkpoint line, and sends it to the witnesses,
// once every records records or, if any record was written since the last
// one, every interval (defaults 1000 and 10s; 0 turns that trigger off).
// A checkpoint is also written at Open and at Close. Records written after
// the last checkpoint can be cut from the end of the log undetected.
func WithCheckpoints(records int, interval time.Duration) FileOption {
	return func(c *fileConfig) {
		if records < 0 || interval < 0 {
			c.errs = append(c.errs, fmt.Errorf("audit: WithCheckpoints(%d, %v): negative", records, interval))
			return
		}
		c.cp = checkpointPolicy{every: records, interval: interval}
	}
}

// WithWitness sends every checkpoint, once written and fsynced, to w, from
// a goroutine of its own (it never slows a call; a checkpoint that finds
// 256 others waiting is dropped and logged). Repeat for several witnesses.
func WithWitness(w Witness) FileOption {
	return func(c *fileConfig) {
		if w == nil {
			c.errs = append(c.errs, errors.New("audit: WithWitness(nil)"))
			return
		}
		c.witnesses = append(c.witnesses, w)
	}
}
