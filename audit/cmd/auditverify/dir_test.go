package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
)

// fleetCalls is what each replica of the fixture served: ok and
// tool_error calls.
var fleetCalls = map[string][2]int{"web-a": {7, 1}, "web-b": {4, 0}, "web-c": {5, 2}}

// fleetFixture writes the logs of three replicas into one directory, each
// under its instance id, rotated every 2000 bytes, sharing one witness;
// it returns the directory, the key file and the witness file.
func fleetFixture(t *testing.T) (dir, keyFile, witness string) {
	t.Helper()
	dir, other := t.TempDir(), t.TempDir()
	keyFile, witness = filepath.Join(other, "keys"), filepath.Join(other, "witness.jsonl")
	keys, _, err := audit.LoadOrCreateKeyFile(keyFile)
	require.NoError(t, err)
	w, err := audit.NewFileWitness(witness)
	require.NoError(t, err)
	defer w.Close()
	for id, n := range fleetCalls {
		s, err := audit.Open(filepath.Join(dir, id+".jsonl"), audit.WithKeyring(keys), audit.WithInstance(id), audit.WithWitness(w),
			audit.WithCheckpoints(4, 0), audit.WithMaxBytes(2000))
		require.NoError(t, err)
		for i := range n[0] + n[1] {
			outcome := "ok"
			if i >= n[0] {
				outcome = "tool_error"
			}
			require.NoError(t, s.Write(context.Background(), &audit.Record{ID: fmt.Sprintf("%s-%03d", id, i), Tool: "get_x", Outcome: outcome,
				Principal: audit.Principal{Subject: "alice"}}))
		}
		require.NoError(t, s.Close(context.Background()))
	}
	return dir, keyFile, witness
}

func TestDirModeVerifiesEachInstance(t *testing.T) {
	dir, keys, witness := fleetFixture(t)
	rot, err := filepath.Glob(filepath.Join(dir, "web-a.0*.jsonl"))
	require.NoError(t, err)
	require.NotEmpty(t, rot, "the fixture rotates")

	code, out, errOut := verify("-keys", keys, "-witness", witness, "-dir", dir)
	require.Equal(t, 0, code, errOut)
	assert.Empty(t, errOut)
	assert.Contains(t, out, "auditverify: instance web-a: OK: ")
	assert.Contains(t, out, "8 calls (ok 7, tool_error 1)")
	assert.Contains(t, out, "instance web-b: OK: ")
	assert.Contains(t, out, "4 calls (ok 4)")
	assert.Contains(t, out, "7 calls (ok 5, tool_error 2)")
	assert.Contains(t, out, "auditverify: OK: total: 3 instances, ")
	assert.Contains(t, out, "19 calls (ok 16, tool_error 3)")

	// The directory alone, as the argument, is the same.
	code2, out2, _ := verify("-keys", keys, "-witness", witness, dir)
	assert.Equal(t, 0, code2)
	assert.Equal(t, out, out2)

	code, out, _ = verify("-keys", keys, "-witness", witness, "-summary", "-dir", dir)
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "instance web-c: tool get_x: ok 5, tool_error 2")

	code, out, _ = verify("-keys", keys, "-witness", witness, "-json", "-dir", dir)
	require.Equal(t, 0, code)
	var rep audit.DirReport
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	require.Len(t, rep.Chains, 3)
	for _, c := range rep.Chains {
		n := fleetCalls[c.Instance]
		assert.Equal(t, n[0]+n[1], c.Counts.Final, c.Instance)
		assert.Equal(t, n[0], c.Counts.Outcomes["ok"], c.Instance)
		assert.Empty(t, c.Problems)
	}
	assert.Equal(t, 19, rep.Counts.Final)
}

// One replica's head cut: the report names it, with the records missing,
// the others are OK, and the exit code is 1; -json says the same.
func TestDirModeNamesTheFailingInstance(t *testing.T) {
	dir, keys, witness := fleetFixture(t)
	rot, err := audit.RotatedFiles(filepath.Join(dir, "web-b.jsonl"))
	require.NoError(t, err)
	require.NotEmpty(t, rot)
	require.NoError(t, os.Remove(rot[0]))

	code, out, errOut := verify("-keys", keys, "-witness", witness, "-dir", dir)
	assert.Equal(t, 1, code)
	assert.Regexp(t, `auditverify: FAIL: instance web-b: .*web-b(\.[0-9]+)?\.jsonl:1: \[head_truncated\] the log starts at file 2, seq \d+: records 1\.\.\d+ `, errOut)
	assert.Contains(t, errOut, "auditverify: instance web-b: FAIL (1 problems)")
	assert.Contains(t, out, "instance web-a: OK")
	assert.Contains(t, out, "instance web-c: OK")
	assert.Contains(t, errOut, "FAIL: total: 3 instances (1 failed), 0 directory problems")
	assert.NotContains(t, out, "OK: total")

	code, out, _ = verify("-keys", keys, "-witness", witness, "-json", "-dir", dir)
	assert.Equal(t, 1, code)
	var rep audit.DirReport
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	b := rep.Instances()["web-b"]
	require.NotNil(t, b)
	require.Len(t, b.Problems, 1)
	assert.Equal(t, audit.ProblemHeadTruncated, b.Problems[0].Kind)
	assert.Equal(t, "web-b", b.Problems[0].Instance)
	assert.Equal(t, uint64(1), b.Problems[0].From)
}

// A replica's log deleted whole: the directory misses it, named with its
// instance, and only with the witness.
func TestDirModeReportsADeletedReplicaLog(t *testing.T) {
	dir, keys, witness := fleetFixture(t)
	files, err := filepath.Glob(filepath.Join(dir, "web-c*.jsonl"))
	require.NoError(t, err)
	for _, f := range files {
		require.NoError(t, os.Remove(f))
	}
	code, _, errOut := verify("-keys", keys, "-witness", witness, "-dir", dir)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "[missing_log] the witness holds ")
	assert.Contains(t, errOut, "written by instance web-c")
	assert.Contains(t, errOut, "not among the logs in "+dir)
	assert.Contains(t, errOut, "FAIL: total: 2 instances (0 failed), 1 directory problems")

	code, out, _ := verify("-keys", keys, "-dir", dir)
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "no witness given: records cut from the end and deleted logs cannot be detected")
}

func TestDirModeUsage(t *testing.T) {
	dir, keys, _ := fleetFixture(t)
	for _, args := range [][]string{
		{"-keys", keys, "-dir", dir, filepath.Join(dir, "web-a.jsonl")},
		{"-keys", keys, "-dir", dir, "-rotated"},
		{"-keys", keys, "-dir", dir, "-instance", "web-a"},
		{"-key-env", "MCPKIT_TEST_NO_SUCH_VAR", "-dir", dir},
	} {
		code, _, _ := verify(args...)
		assert.Equal(t, 2, code, args)
	}
	code, _, errOut := verify("-keys", keys, "-dir", filepath.Join(dir, "nope"))
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "no such file or directory")
	code, _, errOut = verify("-keys", keys, "-dir", t.TempDir())
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "no log (*.jsonl) in the directory")
}
