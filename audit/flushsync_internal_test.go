package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// withSync replaces the fsync Flush uses, so that a test can hold it.
func withSync(fn func(*os.File) error) FileOption {
	return func(c *fileConfig) { c.sync = fn }
}

// heldSync is an fsync that blocks until released, reporting when it
// starts and whether the file was still open once it was released.
type heldSync struct {
	armed            atomic.Bool // it holds the first fsync after it is armed
	entered, release chan struct{}
	closedUnder      chan bool
}

func newHeldSync() *heldSync {
	return &heldSync{entered: make(chan struct{}, 1), release: make(chan struct{}), closedUnder: make(chan bool, 1)}
}

func (h *heldSync) sync(f *os.File) error {
	if !h.armed.CompareAndSwap(true, false) {
		return f.Sync() // not armed, or already held once
	}
	h.entered <- struct{}{}
	<-h.release
	err := f.Sync()
	h.closedUnder <- errors.Is(err, os.ErrClosed)
	return err
}

func syncTestRecord(i int) *Record {
	return &Record{ID: fmt.Sprintf("%032d", i), Time: Time{time.Date(2026, 5, 1, 12, 0, 0, i, time.UTC)},
		Principal: Principal{Subject: "alice"}, Tool: "get_thing", Risk: "read_only",
		Arguments: []byte(`{"n":` + fmt.Sprint(i) + `}`), Outcome: "ok"}
}

func syncTestKeys(t *testing.T) *Keyring {
	k, err := NewKeyring(Key{ID: "k1", Secret: bytes.Repeat([]byte{7}, MinKeyBytes)})
	require.NoError(t, err)
	return k
}

// returnsWithin runs fn and reports whether it returned within d; done
// yields its error either way.
func returnsWithin(fn func() error, d time.Duration) (chan error, bool) {
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		done <- err
		return done, true
	case <-time.After(d):
		return done, false
	}
}

// The periodic fsync of group commit must not stall calls: a Write while
// Flush waits on the disk returns at once, and the next Flush covers it.
func TestWritesAreNotHeldByAnOngoingFsync(t *testing.T) {
	keys := syncTestKeys(t)
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	h := newHeldSync()
	s, err := Open(path, WithKeyring(keys), WithSyncInterval(time.Hour), withSync(h.sync))
	require.NoError(t, err)
	require.NoError(t, s.Write(context.Background(), syncTestRecord(1)))

	h.armed.Store(true)
	flushed := make(chan error, 1)
	go func() { flushed <- s.Flush(context.Background()) }()
	<-h.entered

	done, ok := returnsWithin(func() error { return s.Write(context.Background(), syncTestRecord(2)) }, 5*time.Second)
	require.True(t, ok, "a Write waited for the fsync of records written before it")
	require.NoError(t, <-done)
	select {
	case err := <-flushed:
		t.Fatalf("Flush returned before its fsync did: %v", err)
	default:
	}

	close(h.release)
	require.NoError(t, <-flushed)
	assert.False(t, <-h.closedUnder)
	// The record written during the fsync is dirty again: the next Flush
	// fsyncs it rather than returning early.
	var again atomic.Int32
	s.cfg.sync = func(f *os.File) error { again.Add(1); return f.Sync() }
	require.NoError(t, s.Flush(context.Background()))
	require.Equal(t, int32(1), again.Load(), "the record written during the previous fsync was not fsynced by the next Flush")
	require.NoError(t, s.Close(context.Background()))
	require.ErrorIs(t, s.Flush(context.Background()), ErrClosed, "a Flush after Close touched the closed file")

	res, err := Verify(keys, path)
	require.NoError(t, err)
	assert.Equal(t, 2, res.Calls)
}

// Rotation and Close close the file: neither may do it under an fsync
// still running on it, or the fsync fails and the sink with it.
func TestRotationAndCloseWaitForAnOngoingFsync(t *testing.T) {
	for _, tc := range []struct {
		name string
		act  func(s *FileSink) error
	}{
		{"rotation", func(s *FileSink) error { return s.Write(context.Background(), syncTestRecord(3)) }},
		{"close", func(s *FileSink) error { return s.Close(context.Background()) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys := syncTestKeys(t)
			path := filepath.Join(t.TempDir(), "audit.jsonl")
			h := newHeldSync()
			// Small enough that the third record rotates the file.
			s, err := Open(path, WithKeyring(keys), WithSyncInterval(time.Hour), WithMaxBytes(1200), withSync(h.sync))
			require.NoError(t, err)
			require.NoError(t, s.Write(context.Background(), syncTestRecord(1)))
			require.NoError(t, s.Write(context.Background(), syncTestRecord(2)))

			h.armed.Store(true)
			flushed := make(chan error, 1)
			go func() { flushed <- s.Flush(context.Background()) }()
			<-h.entered

			done, ok := returnsWithin(func() error { return tc.act(s) }, 200*time.Millisecond)
			require.False(t, ok, "the file was closed while an fsync ran on it")
			close(h.release)
			require.NoError(t, <-flushed)
			assert.False(t, <-h.closedUnder, "the fsync found its file closed")
			require.NoError(t, <-done)
			require.NoError(t, s.Close(context.Background()))

			files, err := RotatedFiles(path)
			require.NoError(t, err)
			if tc.name == "rotation" {
				require.NotEmpty(t, files, "the third record did not rotate the file")
			}
			res, err := Verify(keys, append(files, path)...)
			require.NoError(t, err)
			assert.Equal(t, map[bool]int{true: 3, false: 2}[tc.name == "rotation"], res.Calls)
		})
	}
}

// A failed periodic fsync fails the sink: later calls are refused rather
// than acknowledged on a file whose earlier records may not be on disk.
func TestFailedPeriodicFsyncFailsTheSink(t *testing.T) {
	keys := syncTestKeys(t)
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	var broken atomic.Bool
	s, err := Open(path, WithKeyring(keys), WithSyncInterval(time.Hour), withSync(func(f *os.File) error {
		if broken.Load() {
			return errors.New("EIO")
		}
		return f.Sync()
	}))
	require.NoError(t, err)
	broken.Store(true)
	require.NoError(t, s.Write(context.Background(), syncTestRecord(1)))
	require.ErrorContains(t, s.Flush(context.Background()), "EIO")
	require.ErrorContains(t, s.Write(context.Background(), syncTestRecord(2)), "EIO")
	_ = s.Close(context.Background())
}

// A write-ahead record (phase "start") announces a change about to be made:
// it is fsynced before Write returns, so that a power loss cannot keep the
// change and lose its record. Final records of read-only calls wait for
// the periodic fsync.
func TestWriteAheadRecordsAreFsyncedBeforeWriteReturns(t *testing.T) {
	keys := syncTestKeys(t)
	var syncs atomic.Int32
	s, err := Open(filepath.Join(t.TempDir(), "audit.jsonl"), WithKeyring(keys), WithSyncInterval(time.Hour),
		withSync(func(f *os.File) error { syncs.Add(1); return f.Sync() }))
	require.NoError(t, err)
	defer s.Close(context.Background())
	base := syncs.Load() // the open checkpoint's

	require.NoError(t, s.Write(context.Background(), syncTestRecord(1)))
	assert.Equal(t, base, syncs.Load(), "a final record of a read-only call was fsynced on the call's path")

	start := syncTestRecord(2)
	start.Phase, start.Risk = PhaseStart, "destructive"
	require.NoError(t, s.Write(context.Background(), start))
	assert.Equal(t, base+1, syncs.Load(), "a write-ahead record was acknowledged before it was fsynced")
}
