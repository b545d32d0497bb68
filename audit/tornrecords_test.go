package audit_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
)

// The newlines joining the last lines of a closed log removed: the
// unterminated tail holds complete sealed records, which no crash leaves.
// Open refuses to start rather than cut them, and the file is untouched.
func TestOpenRefusesToCutCompleteRecordsWithoutNewlines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	s, err := openFile(path)
	require.NoError(t, err)
	writeN(t, s, 1, 10)
	require.NoError(t, s.Close(context.Background()))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") // genesis, open cp, 10, close cp
	require.Len(t, lines, 13)
	joined := []byte(lines[0])
	for _, l := range lines[1:9] {
		joined = append(joined, '\n')
		joined = append(joined, l...)
	}
	joined = append(joined, '\n')
	for _, l := range lines[9:] { // seqs 10..13, no newline between or after
		joined = append(joined, l...)
	}
	require.NoError(t, os.WriteFile(path, joined, 0o600))

	var logged syncBuffer
	_, err = openFile(path, audit.WithFileLogger(newJSONLogger(&logged)))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "4 complete records (seq 10..13)")
	assert.Contains(t, err.Error(), "not a write torn by a crash")
	after, rerr := os.ReadFile(path)
	require.NoError(t, rerr)
	assert.Equal(t, joined, after, "no sealed record was cut")
	assert.NotContains(t, logged.String(), "cut a torn last line")

	// One complete record without its newline is refused too.
	one := append(bytes.Join(toBytes(lines[:12]), []byte("\n")), '\n')
	one = append(one, lines[12]...)
	require.NoError(t, os.WriteFile(path, one, 0o600))
	_, err = openFile(path)
	require.ErrorContains(t, err, "1 complete record (seq 13)")
}

// A genuine tear (an incomplete JSON text without a newline) is cut, and
// the cut is put on record: a sealed recovery line with the byte count
// and SHA-256 of what was cut, which the verifier reports.
func TestTornLineCutIsRecordedInTheLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	s, err := openFile(path)
	require.NoError(t, err)
	writeN(t, s, 1, 3)
	require.NoError(t, s.Close(context.Background()))
	whole, err := os.ReadFile(path)
	require.NoError(t, err)
	tear := []byte(`{"id":"00000000000000000000000000000004","time":"2026-05`)
	require.NoError(t, os.WriteFile(path, append(bytes.Clone(whole), tear...), 0o600))

	s, err = openFile(path)
	require.NoError(t, err)
	sum := sha256.Sum256(tear)
	assert.Equal(t, hex.EncodeToString(sum[:]), s.Recovered().TornSHA256)
	writeN(t, s, 4, 1)
	require.NoError(t, s.Close(context.Background()))

	lines := readLines(t, path)
	var rec map[string]any
	require.NoError(t, jsonUnmarshal([]byte(lines[6]), &rec), lines[6])
	assert.Equal(t, audit.KindRecovery, rec["kind"])
	assert.EqualValues(t, len(tear), rec["cut_bytes"])
	assert.Equal(t, hex.EncodeToString(sum[:]), rec["cut_sha256"])
	assert.EqualValues(t, 7, rec["cut_line"])

	res, err := audit.Verify(testKeys, path)
	require.NoError(t, err)
	require.Len(t, res.Recoveries, 1)
	r := res.Recoveries[0]
	assert.Equal(t, int64(len(tear)), r.CutBytes)
	assert.Equal(t, hex.EncodeToString(sum[:]), r.CutSHA256)
	assert.Equal(t, 4, res.Calls, "the recovery line is not a call")

	// The recovery line is sealed like the others: altering it is found.
	field := fmt.Sprintf(`"cut_bytes":%d`, len(tear))
	require.Contains(t, lines[6], field)
	lines[6] = strings.Replace(lines[6], field, `"cut_bytes":1`, 1)
	writeLines(t, path, lines)
	_, err = audit.Verify(testKeys, path)
	require.ErrorContains(t, err, "MAC mismatch")
}

func toBytes(ss []string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

// Zeros at the end (a power loss can leave the size written before the
// data), alone or after the start of a record, are a crash artefact: cut
// and recorded, not refused.
func TestTrailingZerosAreCutAsATear(t *testing.T) {
	for _, tail := range [][]byte{make([]byte, 4096), append([]byte(`{"id":"x","ti`), make([]byte, 100)...)} {
		path := filepath.Join(t.TempDir(), "audit.jsonl")
		s, err := openFile(path)
		require.NoError(t, err)
		writeN(t, s, 1, 2)
		require.NoError(t, s.Close(context.Background()))
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		require.NoError(t, err)
		_, err = f.Write(tail)
		require.NoError(t, err)
		require.NoError(t, f.Close())
		s, err = openFile(path)
		require.NoError(t, err)
		assert.Equal(t, int64(len(tail)), s.Recovered().TornBytes)
		require.NoError(t, s.Close(context.Background()))
		res, err := audit.Verify(testKeys, path)
		require.NoError(t, err)
		assert.Len(t, res.Recoveries, 1)
	}
}
