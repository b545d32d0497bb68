package audit_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
)

var rotatedKeys = mustKeyring(audit.Key{ID: "k1", Secret: testSecret}, audit.Key{ID: "k2", Secret: []byte(strings.Repeat("fedcba9876543210", 2))})

// fleetDir runs the fleet twice into one directory, the second time after
// a key rotation, with files rotated every 3000 bytes and the shared
// witness file kept in the same directory.
func fleetDir(t *testing.T) (dir, witness string) {
	t.Helper()
	dir = t.TempDir()
	witness = filepath.Join(dir, "witness.jsonl")
	runFleet(t, dir, witness, audit.WithMaxBytes(3000))
	runFleet(t, dir, witness, audit.WithMaxBytes(3000), audit.WithKeyring(rotatedKeys))
	return dir, witness
}

func verifyDir(t *testing.T, dir, witness string) (audit.DirReport, error) {
	t.Helper()
	cps, err := audit.ReadCheckpoints(witness)
	require.NoError(t, err)
	return audit.VerifyDir(context.Background(), dir, audit.VerifyConfig{Keys: rotatedKeys, Checkpoints: cps, Witnessed: true})
}

// A clean fleet directory, with rotated files and a key rotation, verifies
// chain by chain, and the records add up to the calls each replica
// served.
func TestVerifyDirCleanFleetWithRotationAndKeyRotation(t *testing.T) {
	dir, witness := fleetDir(t)
	rep, err := verifyDir(t, dir, witness)
	require.NoError(t, err, fmt.Sprint(rep.Problems))
	assert.True(t, rep.OK())
	assert.Equal(t, []string{witness}, rep.Skipped)
	require.Len(t, rep.Chains, len(fleetReplicas))
	byID := rep.Instances()
	total := 0
	for _, r := range fleetReplicas {
		c := byID[r.id]
		require.NotNil(t, c, r.id)
		assert.Greater(t, len(c.Files), 1, "%s: rotated", r.id)
		assert.Equal(t, filepath.Join(dir, r.id+".jsonl"), c.Files[len(c.Files)-1])
		assert.Equal(t, uint64(1), c.FirstSeq)
		assert.Positive(t, c.Checkpoints)
		assert.Empty(t, c.Problems)
		// Two runs of calls+1 calls each, one write-ahead record each run.
		assert.Equal(t, 2*(r.calls+1), c.Counts.Final, r.id)
		assert.Equal(t, 2, c.Counts.Start, r.id)
		assert.Equal(t, map[string]int{"ok": 2 * (r.calls + 1)}, c.Counts.Outcomes, r.id)
		assert.Equal(t, map[string]int{r.id: 2*(r.calls+1) + 2}, c.Counts.Instances, r.id)
		total += 2 * (r.calls + 1)
	}
	assert.Equal(t, total, rep.Counts.Final)
	assert.Equal(t, total, rep.Counts.Outcomes["ok"])
	// Both keys sealed lines.
	b, err := os.ReadFile(filepath.Join(dir, "replica-a.jsonl"))
	require.NoError(t, err)
	assert.Contains(t, string(b), `"kid":"k2"`)
	first, err := os.ReadFile(byID["replica-a"].Files[0])
	require.NoError(t, err)
	assert.Contains(t, string(first), `"kid":"k1"`)
}

// The head of one replica's log cut (its oldest file deleted): the report
// names that replica and the records missing; the others verify.
func TestVerifyDirNamesTheInstanceWhoseHeadWasCut(t *testing.T) {
	dir, witness := fleetDir(t)
	rep, err := verifyDir(t, dir, witness)
	require.NoError(t, err)
	b := rep.Instances()["replica-b"]
	require.Greater(t, len(b.Files), 1)
	require.NoError(t, os.Remove(b.Files[0]))

	rep, err = verifyDir(t, dir, witness)
	require.Error(t, err)
	assert.False(t, rep.OK())
	var ve *audit.VerifyError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, audit.ProblemHeadTruncated, ve.Kind)
	assert.Equal(t, "replica-b", ve.Instance)
	assert.Equal(t, uint64(1), ve.From)
	assert.Positive(t, ve.To)
	assert.Contains(t, ve.Reason, fmt.Sprintf("records 1..%d", ve.To))
	for id, c := range rep.Instances() {
		if id != "replica-b" {
			assert.Empty(t, c.Problems, id)
		}
	}
	assert.Empty(t, rep.Problems)
}

// One replica's whole log deleted: the directory misses it, and the
// report names that instance and its log; the others verify.
func TestVerifyDirReportsAReplicaWhoseLogIsGone(t *testing.T) {
	dir, witness := fleetDir(t)
	rep, err := verifyDir(t, dir, witness)
	require.NoError(t, err)
	c := rep.Instances()["replica-c"]
	for _, f := range c.Files {
		require.NoError(t, os.Remove(f))
	}

	rep, err = verifyDir(t, dir, witness)
	require.Error(t, err)
	require.Len(t, rep.Problems, 1)
	p := rep.Problems[0]
	assert.Equal(t, audit.ProblemMissingLog, p.Kind)
	assert.Equal(t, "replica-c", p.Instance)
	assert.Equal(t, c.Log, p.Log)
	assert.Equal(t, c.LastWitnessed, p.To)
	assert.Contains(t, p.Reason, "written by instance replica-c")
	assert.Len(t, rep.Chains, 2)
	for _, ch := range rep.Chains {
		assert.Empty(t, ch.Problems, ch.Instance)
	}
}

// Two chains under one instance id: a replica's log copied over another's
// (the other's log is then missing), or a stray copy.
func TestVerifyDirReportsTwoChainsOfOneInstance(t *testing.T) {
	dir := t.TempDir()
	witness := filepath.Join(t.TempDir(), "witness.jsonl")
	runFleet(t, dir, witness)
	a, b := filepath.Join(dir, "replica-a.jsonl"), filepath.Join(dir, "replica-b.jsonl")
	aLog := func() string {
		rep, err := verifyDir(t, dir, witness)
		require.NoError(t, err)
		return rep.Instances()["replica-a"].Log
	}()
	body, err := os.ReadFile(b)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(a, body, 0o600))

	rep, err := verifyDir(t, dir, witness)
	require.Error(t, err)
	kinds := map[string]audit.VerifyError{}
	for _, p := range rep.Problems {
		kinds[p.Kind] = p
	}
	require.Contains(t, kinds, audit.ProblemDuplicateInstance, fmt.Sprint(rep.Problems))
	assert.Equal(t, "replica-b", kinds[audit.ProblemDuplicateInstance].Instance)
	assert.Contains(t, kinds[audit.ProblemDuplicateInstance].Reason, "the same log")
	require.Contains(t, kinds, audit.ProblemMissingLog)
	assert.Equal(t, "replica-a", kinds[audit.ProblemMissingLog].Instance)
	assert.Equal(t, aLog, kinds[audit.ProblemMissingLog].Log)
}

// A replica restarted on a new file names its lost log; once that log is
// found and put back beside the new one, the directory verifies: the two
// chains of the instance are one replacing the other.
func TestVerifyDirAcceptsAReplacedLogKeptBesideItsSuccessor(t *testing.T) {
	dir, witness := t.TempDir(), filepath.Join(t.TempDir(), "witness.jsonl")
	runFleet(t, dir, witness)
	path := filepath.Join(dir, "replica-b.jsonl")
	moved := filepath.Join(t.TempDir(), "replica-b.old.jsonl")
	require.NoError(t, os.Rename(path, moved))
	w, err := audit.NewFileWitness(witness)
	require.NoError(t, err)
	s, err := openFile(path, audit.WithInstance("replica-b"), audit.WithWitness(w))
	require.NoError(t, err)
	writeN(t, s, 1, 2)
	require.NoError(t, s.Close(context.Background()))
	require.NoError(t, w.Close())

	rep, err := verifyDir(t, dir, witness)
	require.Error(t, err)
	assert.Equal(t, audit.ProblemMissingLog, rep.Instances()["replica-b"].Problems[0].Kind)

	require.NoError(t, os.Rename(moved, filepath.Join(dir, "replica-b.old.jsonl")))
	rep, err = verifyDir(t, dir, witness)
	require.NoError(t, err, fmt.Sprint(rep.Problems))
	assert.Len(t, rep.Chains, 4)
}

func TestVerifyDirErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := audit.VerifyDir(context.Background(), dir, audit.VerifyConfig{Keys: testKeys})
	require.ErrorContains(t, err, "no log")
	_, err = audit.VerifyDir(context.Background(), dir, audit.VerifyConfig{})
	require.ErrorContains(t, err, "no key")
	_, err = audit.VerifyDir(context.Background(), dir, audit.VerifyConfig{Keys: testKeys, Instance: "a"})
	require.ErrorContains(t, err, "one per instance")
	_, err = audit.VerifyDir(context.Background(), filepath.Join(dir, "nope"), audit.VerifyConfig{Keys: testKeys})
	require.ErrorIs(t, err, os.ErrNotExist)
}

// A replica's writer renamed (its file reopened under another id): the
// lines under the new id continue the chain, so they are not foreign, and
// the chain stays the instance its genesis and file name say.
func TestVerifyDirAcceptsAWriterRenamedOnItsFile(t *testing.T) {
	dir, witness := t.TempDir(), filepath.Join(t.TempDir(), "witness.jsonl")
	runFleet(t, dir, witness)
	w, err := audit.NewFileWitness(witness)
	require.NoError(t, err)
	s, err := openFile(filepath.Join(dir, "replica-a.jsonl"), audit.WithInstance("replica-z"), audit.WithWitness(w))
	require.NoError(t, err)
	writeN(t, s, 1, 2)
	require.NoError(t, s.Close(context.Background()))
	require.NoError(t, w.Close())

	rep, err := verifyDir(t, dir, witness)
	require.NoError(t, err, fmt.Sprint(rep.Problems, rep.Chains))
	c := rep.Instances()["replica-a"]
	require.NotNil(t, c)
	assert.Equal(t, []string{"replica-a", "replica-z"}, c.Instances)
	assert.Equal(t, 2, c.Counts.Instances["replica-z"])
}
