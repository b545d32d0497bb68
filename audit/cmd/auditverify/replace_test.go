package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
)

// restart runs the server's sink again on path with the same key and
// witness file, and records n calls.
func restart(t *testing.T, path, keyFile, witness string, n int, opts ...audit.FileOption) {
	t.Helper()
	keys, err := audit.ReadKeyFile(keyFile)
	require.NoError(t, err)
	w, err := audit.NewFileWitness(witness)
	require.NoError(t, err)
	defer w.Close()
	s, err := audit.Open(path, append([]audit.FileOption{audit.WithKeyring(keys), audit.WithWitness(w), audit.WithCheckpoints(10, 0)}, opts...)...)
	require.NoError(t, err)
	for i := range n {
		require.NoError(t, s.Write(context.Background(), &audit.Record{ID: fmt.Sprintf("new-%03d", i), Tool: "update_x", Outcome: "ok"}))
	}
	require.NoError(t, s.Close(context.Background()))
}

// The whole log deleted and the server restarted on a new one, with the
// same key and witness: the witness's checkpoints of the old log are not
// silently ignored.
func TestWholeLogReplacedIsReportedByTheWitness(t *testing.T) {
	path, keys, witness := logFixture(t, 25)
	old, err := audit.ReadCheckpoints(witness)
	require.NoError(t, err)
	require.NoError(t, os.Remove(path))
	var logged bytes.Buffer
	restart(t, path, keys, witness, 1, audit.WithFileLogger(slog.New(slog.NewTextHandler(&logged, nil))))

	// At start, the server says the log it replaces is missing, at ERROR,
	// and the new genesis line names it.
	assert.Contains(t, logged.String(), "level=ERROR")
	assert.Contains(t, logged.String(), "predecessor_log="+old[0].Log)
	assert.Contains(t, logged.String(), "predecessor_seq=30")
	genesis := lines(t, path)[0]
	assert.Contains(t, genesis, `"pred_log":"`+old[0].Log+`","pred_seq":30,"pred_hash":"`+old[3].Hash+`"`)

	// Without the witness, the missing predecessor is reported too.
	code, out, errOut := verify("-keys", keys, "-rotated", path)
	assert.Equal(t, 1, code, out)
	assert.Contains(t, errOut, path+":1: [missing_log] this log was started in place of log "+old[0].Log+", whose records 1..30")

	code, out, errOut = verify("-keys", keys, "-witness", witness, "-rotated", path)
	assert.Equal(t, 1, code, out)
	assert.NotContains(t, out, "OK")
	// Reported once, at the genesis line naming the predecessor.
	assert.Contains(t, errOut, "[missing_log] this log was started in place of log "+old[0].Log)
	assert.Contains(t, errOut, "1 problems")

	// A new log whose genesis names no predecessor (the server ran
	// without a witness it can read back): the witness names the log.
	require.NoError(t, os.Remove(path))
	restart(t, path, keys, filepath.Join(t.TempDir(), "elsewhere.jsonl"), 1)
	code, _, errOut = verify("-keys", keys, "-witness", witness, "-rotated", path)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, fmt.Sprintf("[missing_log] the witness holds 4 checkpoints of log %s, up to seq 30", old[0].Log))
	assert.Contains(t, errOut, "records 1..30 of that log are not among the files given")
	assert.Contains(t, errOut, "[unwitnessed]")
}

// Another log sealed with the same key copied over the log: none of its
// records is covered by the witness, which is not OK.
func TestForeignLogUnderTheSameKeyIsNotWitnessed(t *testing.T) {
	path, keys, witness := logFixture(t, 5)
	other := filepath.Join(t.TempDir(), "other.jsonl")
	restart(t, other, keys, filepath.Join(t.TempDir(), "other-witness.jsonl"), 3)
	b, err := os.ReadFile(other)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, b, 0o600))

	code, out, errOut := verify("-keys", keys, "-witness", witness, path)
	assert.Equal(t, 1, code, out)
	assert.Contains(t, errOut, "[unwitnessed] the witness holds no checkpoint of log")
	// The copy names its own writer, another instance: the witness's log
	// of this path's instance is reported missing when the verifier is
	// told which instance the file belongs to (a fleet's directory is
	// checked as a whole by -dir).
	code, _, errOut = verify("-keys", keys, "-witness", witness, "-instance", audit.DefaultInstance(path), path)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "[foreign] seq 1 was written by instance "+audit.DefaultInstance(other)+", not "+audit.DefaultInstance(path))
	assert.Contains(t, errOut, "[missing_log] the witness holds 2 checkpoints of log")
	assert.Contains(t, errOut, "written by instance "+audit.DefaultInstance(path))

	// An empty witness vouches for nothing: a log checked against it is
	// not OK either, and the message says the witness ends before it.
	empty := filepath.Join(t.TempDir(), "empty.jsonl")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	code, _, errOut = verify("-keys", keys, "-witness", empty, path)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "[unwitnessed]")
	assert.Contains(t, errOut, "the witness holds no checkpoint at all")
}

// -partial: the newest files of a log, the older ones archived, verify
// against the witness when a checkpoint falls within them; the witness's
// checkpoints before them are not "missing".
func TestPartialLogIsCoveredByTheWitness(t *testing.T) {
	path, keys, witness := logFixture(t, 40, audit.WithMaxBytes(3000))
	rot, err := audit.RotatedFiles(path)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(rot), 2)
	code, out, errOut := verify("-keys", keys, "-witness", witness, "-partial", rot[len(rot)-1], path)
	assert.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "OK")
}

// A torn last line cut at a restart is on record, and auditverify shows
// it, with its size and digest, without failing.
func TestTornLineCutAtRestartIsReported(t *testing.T) {
	path, keys, witness := logFixture(t, 5)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.WriteString(`{"id":"call-005","time":"2026-`)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	restart(t, path, keys, witness, 1)

	code, out, errOut := verify("-keys", keys, "-witness", witness, path)
	assert.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "[recovery] seq 9: the server cut a torn last line (line 9, 30 bytes, sha256 ")
	assert.Contains(t, out, "OK")
}
