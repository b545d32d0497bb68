package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
)

// The attacks here write to the fleet's directory without the key: they
// move authentic lines and files between replicas. Each chain must stay
// its genesis's instance, and what moved must be named where it is.

// dirJSON verifies dir with -json and returns the exit code and report.
func dirJSON(t *testing.T, keys, witness, dir string) (int, audit.DirReport) {
	t.Helper()
	code, out, errOut := verify("-keys", keys, "-witness", witness, "-json", "-dir", dir)
	var rep audit.DirReport
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out+errOut)
	return code, rep
}

// fileLines returns the lines of path, each with its newline.
func fileLines(t *testing.T, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	ls := bytes.SplitAfter(b, []byte("\n"))
	if len(ls[len(ls)-1]) == 0 {
		ls = ls[:len(ls)-1]
	}
	return ls
}

// seqInstance reads the seq and instance a line claims.
func seqInstance(t *testing.T, line []byte) (uint64, string) {
	t.Helper()
	var v struct {
		Seq      uint64 `json:"seq"`
		Instance string `json:"instance"`
	}
	require.NoError(t, json.Unmarshal(line, &v))
	return v.Seq, v.Instance
}

func withNewline(b []byte) []byte {
	if !bytes.HasSuffix(b, []byte("\n")) {
		b = append(append([]byte(nil), b...), '\n')
	}
	return b
}

func kinds(ps []audit.VerifyError) []string {
	var k []string
	for _, p := range ps {
		k = append(k, p.Kind)
	}
	return k
}

func chainInstances(rep audit.DirReport) []string {
	var ids []string
	for _, c := range rep.Chains {
		ids = append(ids, c.Instance)
	}
	return ids
}

// Finding 1: one authentic line of web-a put into web-b's file (appended,
// spliced in the middle, or in place of a record). Before, the report
// called web-b's chain "instance web-a", added duplicate_instance and
// dropped web-b; spliced, the line was only out_of_order. Now web-b's
// chain stays web-b's and the line is foreign, named by line, instance
// and seq; web-a verifies.
func TestDirModeNamesALineOfAnotherReplicaAsForeign(t *testing.T) {
	for _, how := range []string{"appended", "spliced", "replacing"} {
		t.Run(how, func(t *testing.T) {
			dir, keys, witness := fleetFixture(t)
			a, b := filepath.Join(dir, "web-a.jsonl"), filepath.Join(dir, "web-b.jsonl")
			la, lb := fileLines(t, a), fileLines(t, b)
			require.Greater(t, len(la), 3)
			require.Greater(t, len(lb), 3)
			moved := withNewline(la[2])
			seq, inst := seqInstance(t, moved)
			require.Equal(t, "web-a", inst)
			var out [][]byte
			at := 0
			switch how {
			case "appended":
				out, at = append(lb, moved), len(lb)+1
			case "spliced":
				out, at = append(append(append([][]byte{}, lb[:2]...), moved), lb[2:]...), 3
			case "replacing":
				out, at = append(append(append([][]byte{}, lb[:2]...), moved), lb[3:]...), 3
			}
			require.NoError(t, os.WriteFile(b, bytes.Join(out, nil), 0o600))

			code, rep := dirJSON(t, keys, witness, dir)
			assert.Equal(t, 1, code)
			assert.Equal(t, []string{"web-a", "web-b", "web-c"}, chainInstances(rep))
			assert.Empty(t, rep.Problems, "no duplicate_instance, no missing_log")
			byID := rep.Instances()
			assert.Empty(t, byID["web-a"].Problems)
			assert.Empty(t, byID["web-c"].Problems)
			pb := byID["web-b"].Problems
			require.NotEmpty(t, pb)
			f := pb[0]
			assert.Equal(t, audit.ProblemForeign, f.Kind, kinds(pb))
			assert.Equal(t, b, f.File)
			assert.Equal(t, at, f.Line)
			assert.Equal(t, seq, f.Seq)
			assert.Equal(t, "web-a", f.Instance)
			assert.Contains(t, f.Reason, "instance web-a")
			assert.Contains(t, f.Reason, "this chain's instance web-b")
			switch how {
			case "appended", "spliced":
				assert.Equal(t, []string{audit.ProblemForeign}, kinds(pb))
			case "replacing":
				// The replaced line is missing from web-b's chain (and
				// if the witness holds it, it says so).
				gone, _ := seqInstance(t, lb[2])
				require.GreaterOrEqual(t, len(pb), 2)
				assert.Equal(t, []string{audit.ProblemForeign, audit.ProblemGap}, kinds(pb[:2]))
				assert.Equal(t, gone, pb[1].From)
				for _, p := range pb[2:] {
					assert.Equal(t, audit.ProblemWitnessMismatch, p.Kind)
					assert.Equal(t, gone, p.Seq)
				}
			}
			assert.NotContains(t, kinds(pb), audit.ProblemInterleaved)

			code, _, errOut := verify("-keys", keys, "-witness", witness, "-dir", dir)
			assert.Equal(t, 1, code)
			assert.Contains(t, errOut, "auditverify: FAIL: instance web-b: "+b)
			assert.Contains(t, errOut, "[foreign] line ")
			assert.NotContains(t, errOut, "duplicate_instance")
		})
	}
}

// Finding 2: web-a's whole log appended to web-b's file, web-a's files
// removed. Before: missing_log alone for web-a and a false
// witness_mismatch on web-b. Now every web-a line is foreign in web-b's
// file, web-b's records all check against the witness, and the missing
// log says where its lines went.
func TestDirModeReportsALogAppendedToAnother(t *testing.T) {
	dir, keys, witness := fleetFixture(t)
	_, clean := dirJSON(t, keys, witness, dir)
	aLog := clean.Instances()["web-a"].Log
	a, b := filepath.Join(dir, "web-a.jsonl"), filepath.Join(dir, "web-b.jsonl")
	files, err := audit.RotatedFiles(a)
	require.NoError(t, err)
	files = append(files, a)
	body, err := os.ReadFile(b)
	require.NoError(t, err)
	first := len(fileLines(t, b)) + 1
	n := 0
	for _, f := range files {
		c, err := os.ReadFile(f)
		require.NoError(t, err)
		n += len(fileLines(t, f))
		body = append(body, c...)
		require.NoError(t, os.Remove(f))
	}
	require.NoError(t, os.WriteFile(b, body, 0o600))

	code, rep := dirJSON(t, keys, witness, dir)
	assert.Equal(t, 1, code)
	assert.Equal(t, []string{"web-b", "web-c"}, chainInstances(rep))
	wb := rep.Instances()["web-b"]
	require.Len(t, wb.Problems, n, kinds(wb.Problems))
	for i, p := range wb.Problems {
		assert.Equal(t, audit.ProblemForeign, p.Kind)
		assert.Equal(t, first+i, p.Line)
		assert.Equal(t, "web-a", p.Instance)
	}
	assert.Equal(t, clean.Instances()["web-b"].LastSeq, wb.LastSeq)
	assert.Equal(t, clean.Instances()["web-b"].Records, wb.Records)
	require.Len(t, rep.Problems, 1)
	m := rep.Problems[0]
	assert.Equal(t, audit.ProblemMissingLog, m.Kind)
	assert.Equal(t, aLog, m.Log)
	assert.Equal(t, "web-a", m.Instance)
	assert.Contains(t, m.Reason, "found as foreign lines of another chain")
	assert.Contains(t, m.Reason, b)

	code, _, errOut := verify("-keys", keys, "-witness", witness, "-dir", dir)
	assert.Equal(t, 1, code)
	assert.NotContains(t, errOut, "witness_mismatch")
}

// Finding 3: web-a's and web-b's files swapped, or web-c's renamed to
// web-d: each chain still verifies, but the names lie; the report says
// which file holds which instance's chain, exit 1.
func TestDirModeReportsSwappedAndRenamedFiles(t *testing.T) {
	rename := func(t *testing.T, dir, from, to string) {
		t.Helper()
		files, err := filepath.Glob(filepath.Join(dir, from+"*.jsonl"))
		require.NoError(t, err)
		require.NotEmpty(t, files)
		for _, f := range files {
			require.NoError(t, os.Rename(f, filepath.Join(dir, to+strings.TrimPrefix(filepath.Base(f), from))))
		}
	}
	t.Run("swapped", func(t *testing.T) {
		dir, keys, witness := fleetFixture(t)
		rename(t, dir, "web-a", "tmp")
		rename(t, dir, "web-b", "web-a")
		rename(t, dir, "tmp", "web-b")
		code, rep := dirJSON(t, keys, witness, dir)
		assert.Equal(t, 1, code)
		assert.Empty(t, rep.Problems)
		byID := rep.Instances()
		for id, name := range map[string]string{"web-a": "web-b", "web-b": "web-a"} {
			c := byID[id]
			require.NotNil(t, c, id)
			require.Len(t, c.Problems, 1, id)
			p := c.Problems[0]
			assert.Equal(t, audit.ProblemMisnamed, p.Kind)
			assert.Equal(t, id, p.Instance)
			assert.Equal(t, filepath.Join(dir, name+".jsonl"), p.File)
			assert.Contains(t, p.Reason, "holds instance "+id+"'s chain")
			assert.Contains(t, p.Reason, "not instance "+name+"'s")
		}
		assert.Empty(t, byID["web-c"].Problems)
		code, _, errOut := verify("-keys", keys, "-witness", witness, "-dir", dir)
		assert.Equal(t, 1, code)
		assert.Contains(t, errOut, "[misnamed] file "+filepath.Join(dir, "web-b.jsonl")+" holds instance web-a's chain")
	})
	t.Run("renamed", func(t *testing.T) {
		dir, keys, witness := fleetFixture(t)
		rename(t, dir, "web-c", "web-d")
		code, rep := dirJSON(t, keys, witness, dir)
		assert.Equal(t, 1, code)
		assert.Empty(t, rep.Problems)
		c := rep.Instances()["web-c"]
		require.NotNil(t, c)
		assert.Equal(t, []string{audit.ProblemMisnamed}, kinds(c.Problems))
		assert.Equal(t, filepath.Join(dir, "web-d.jsonl"), c.Problems[0].File)
		assert.NotContains(t, rep.Instances(), "web-d")
	})
}

// Finding 4: web-b's files emptied. Before, the report listed the
// checkpoints of every log and web-b's range under another instance.
// Now: empty_log for web-b, the instance its name says, with what the
// witness holds of it, and nothing of the other logs.
func TestDirModeReportsAnEmptiedLogForItsName(t *testing.T) {
	dir, keys, witness := fleetFixture(t)
	_, clean := dirJSON(t, keys, witness, dir)
	wb := clean.Instances()["web-b"]
	files, err := filepath.Glob(filepath.Join(dir, "web-b*.jsonl"))
	require.NoError(t, err)
	for _, f := range files {
		require.NoError(t, os.Truncate(f, 0))
	}

	code, rep := dirJSON(t, keys, witness, dir)
	assert.Equal(t, 1, code)
	assert.Empty(t, rep.Problems, "the emptied log is reported once, on its file")
	c := rep.Instances()["web-b"]
	require.NotNil(t, c)
	require.Len(t, c.Problems, 1, kinds(c.Problems))
	p := c.Problems[0]
	assert.Equal(t, audit.ProblemEmptyLog, p.Kind)
	assert.Equal(t, "web-b", p.Instance)
	assert.Equal(t, wb.Log, p.Log)
	assert.Equal(t, uint64(1), p.From)
	assert.Equal(t, wb.LastWitnessed, p.To)
	assert.Zero(t, c.Checkpoints)
	for _, other := range []string{"web-a", "web-c"} {
		assert.NotContains(t, p.Reason, clean.Instances()[other].Log)
		assert.Empty(t, rep.Instances()[other].Problems)
	}
	code, _, errOut := verify("-keys", keys, "-witness", witness, "-dir", dir)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "auditverify: FAIL: instance web-b: ")
	assert.Contains(t, errOut, "[empty_log]")
	assert.NotContains(t, errOut, "tail_truncated")
}
