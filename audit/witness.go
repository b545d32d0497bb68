package audit

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/log/global"
)

// Witness keeps copies of a log's checkpoints somewhere the log file's
// writer cannot rewrite: another file (on another volume or host, or
// append-only), an HTTP endpoint, the OpenTelemetry log pipeline. Given
// those copies, a verifier detects records cut from the end of the log up
// to the last checkpoint. Checkpoint is called from one goroutine at a
// time, in order; an error is logged, and the next checkpoint supersedes
// the lost one.
type Witness interface {
	Checkpoint(ctx context.Context, c Checkpoint) error
}

// WitnessReader is a Witness that can read back the checkpoints it holds
// (FileWitness is one). When Open starts a new log (no file, or an empty
// one) it reads them: checkpoints there, signed with the keyring, are of
// an earlier log of this server that is gone, which the new genesis line
// names as its predecessor.
type WitnessReader interface {
	Witness
	ReadCheckpoints() ([]Checkpoint, error)
}

// WitnessFunc adapts a function to Witness.
type WitnessFunc func(ctx context.Context, c Checkpoint) error

// Checkpoint calls f.
func (f WitnessFunc) Checkpoint(ctx context.Context, c Checkpoint) error { return f(ctx, c) }

// FileWitness appends checkpoints as JSON lines to a file of their own,
// fsyncing each: keep it on a path the audit file's writers cannot write
// (another volume or host, an append-only file), or it witnesses nothing.
// auditverify -witness reads it.
//
// Before each checkpoint it checks that its path still names the file it
// opened (the file sink's check on the log): a witness file removed,
// replaced or linked elsewhere under the running server fails that
// checkpoint and every later one, rather than feeding a deleted file.
type FileWitness struct {
	mu    sync.Mutex
	path  string
	f     *os.File
	ident os.FileInfo
}

// NewFileWitness opens (or creates) the witness file at path for
// appending.
func NewFileWitness(path string) (*FileWitness, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("audit: witness: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("audit: witness: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("audit: witness: %w", err)
	}
	return &FileWitness{path: path, f: f, ident: fi}, nil
}

// Path returns the witness file's path.
func (w *FileWitness) Path() string { return w.path }

// check reports whether the path still names the file w writes.
func (w *FileWitness) check() error {
	onDisk, err := os.Stat(w.path)
	if err != nil {
		return fmt.Errorf("audit: witness %s was removed under the server; checkpoints are not kept: %w", w.path, err)
	}
	if !os.SameFile(onDisk, w.ident) {
		return fmt.Errorf("audit: witness %s was replaced under the server; checkpoints are not kept", w.path)
	}
	return nil
}

// Checkpoint appends c and fsyncs.
func (w *FileWitness) Checkpoint(_ context.Context, c Checkpoint) error {
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("audit: witness: %w", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return ErrClosed
	}
	if err := w.check(); err != nil {
		return err
	}
	if _, err := w.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("audit: witness: %w", err)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("audit: witness: %w", err)
	}
	return nil
}

// ReadCheckpoints reads the checkpoints in w's file.
func (w *FileWitness) ReadCheckpoints() ([]Checkpoint, error) { return ReadCheckpoints(w.path) }

// Close closes the file.
func (w *FileWitness) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}

// ReadCheckpoints reads the checkpoints of a witness file (the format
// FileWitness writes; export them from a log backend in the same format).
// A torn last line (a crash mid-append) is skipped; any other line that is
// not a checkpoint is an error.
func ReadCheckpoints(path string) ([]Checkpoint, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("audit: witness: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	var out []Checkpoint
	for line := 1; ; line++ {
		b, err := readLine(br)
		if err == io.EOF || errors.Is(err, errTorn) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("audit: witness %s:%d: %w", path, line, err)
		}
		var c Checkpoint
		if err := json.Unmarshal(b, &c); err != nil || c.Seq == 0 || c.Log == "" {
			return nil, fmt.Errorf("audit: witness %s:%d: not a checkpoint", path, line)
		}
		out = append(out, c)
	}
}

// CheckpointEventName is the event name of checkpoint log records.
const CheckpointEventName = "mcpkit.audit.checkpoint"

// OTelWitness emits each checkpoint as an OpenTelemetry log record (event
// mcpkit.audit.checkpoint; attributes log, instance, seq, hash, time,
// reason, kid, mac) through provider (nil: the global one), so that the
// collector's storage holds copies the audit file's writer cannot rewrite.
// Export them as JSON lines with those fields for auditverify -witness.
func OTelWitness(provider log.LoggerProvider) Witness {
	if provider == nil {
		provider = global.GetLoggerProvider()
	}
	logger := provider.Logger(ScopeName)
	return WitnessFunc(func(ctx context.Context, c Checkpoint) error {
		var lr log.Record
		lr.SetEventName(CheckpointEventName)
		lr.SetTimestamp(c.Time.Time)
		lr.SetSeverity(log.SeverityInfo)
		lr.SetBody(attribute.StringValue(fmt.Sprintf("audit checkpoint seq %d", c.Seq)))
		lr.AddAttributes(
			attribute.String("log", c.Log), attribute.String("instance", c.Instance),
			attribute.Int64("seq", int64(c.Seq)), attribute.String("hash", c.Hash),
			attribute.String("time", c.Time.UTC().Format(timeLayout)), attribute.String("reason", c.Reason),
			attribute.String("kid", c.Kid), attribute.String("mac", c.MAC))
		logger.Emit(ctx, lr)
		return nil
	})
}
