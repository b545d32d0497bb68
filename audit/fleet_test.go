package audit_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// fleetReplicas are the instance ids of the test fleet, and calls the
// number of get_thing calls each serves (plus one update_thing).
var fleetReplicas = []struct {
	id    string
	calls int
}{{"replica-a", 4}, {"replica-b", 2}, {"replica-c", 3}}

// runFleet starts the three replicas, each a real server with its own
// file sink under its instance id, all sharing one FileWitness, opened one
// after the other (each finds the others' checkpoints in the witness),
// serves their calls through real clients and closes them. It returns
// the log directory, the witness path and what the sinks logged.
func runFleet(t *testing.T, dir, witness string, opts ...audit.FileOption) string {
	t.Helper()
	w, err := audit.NewFileWitness(witness)
	require.NoError(t, err)
	defer w.Close()
	var logged syncBuffer
	type replica struct {
		sink *audit.FileSink
		h    *mcpkittest.Harness
		f    *fixture
	}
	var fleet []replica
	for _, r := range fleetReplicas {
		s, err := openFile(filepath.Join(dir, r.id+".jsonl"), append([]audit.FileOption{audit.WithInstance(r.id), audit.WithWitness(w),
			audit.WithCheckpoints(3, 0), audit.WithFileLogger(newJSONLogger(&logged))}, opts...)...)
		require.NoError(t, err)
		f := newFixture(t, s)
		fleet = append(fleet, replica{s, mcpkittest.NewHarness(t, f.srv), f})
	}
	// The calls interleave across the replicas.
	for i := range 4 {
		for j, r := range fleetReplicas {
			if i < r.calls {
				fleet[j].h.MustCall("get_thing", map[string]any{"name": fmt.Sprintf("%s-%d", r.id, i)})
			}
		}
	}
	for j := range fleet {
		fleet[j].h.MustCall("update_thing", map[string]any{"name": "x"})
	}
	for _, r := range fleet {
		require.NoError(t, r.f.auditor.Close(context.Background()))
		require.NoError(t, r.sink.Close(context.Background()))
	}
	return logged.String()
}

func verifyReplica(t *testing.T, dir, witness, id string) (audit.VerifyResult, error) {
	t.Helper()
	cps, err := audit.ReadCheckpoints(witness)
	require.NoError(t, err)
	return audit.VerifyWith(audit.VerifyConfig{Keys: testKeys, Checkpoints: cps, Witnessed: true}, filepath.Join(dir, id+".jsonl"))
}

// Three replicas sharing one witness: each one's log verifies against it,
// none takes another's log for a lost predecessor, and every record says
// which replica served the call. Before the witness kept its knowledge
// per instance, the second and third replica named the first's log as
// their predecessor (an ERROR at start, missing_log when verified), and
// each log verified with missing_log for the two others.
func TestFleetSharingOneWitnessVerifiesEveryReplica(t *testing.T) {
	dir, witness := t.TempDir(), filepath.Join(t.TempDir(), "witness.jsonl")
	logged := runFleet(t, dir, witness)
	assert.NotContains(t, logged, "ERROR")
	assert.NotContains(t, logged, "predecessor")

	for _, r := range fleetReplicas {
		res, err := verifyReplica(t, dir, witness, r.id)
		require.NoError(t, err, r.id)
		assert.Empty(t, res.Problems, r.id)
		assert.Equal(t, []string{r.id}, res.Instances)
		assert.Positive(t, res.Checkpoints, r.id)
		// The records add up to the calls made.
		assert.Equal(t, r.calls+1, res.Counts.Final, r.id)
		assert.Equal(t, map[string]int{"ok": r.calls + 1}, res.Counts.Outcomes, r.id)
		assert.Equal(t, map[string]int{"ok": r.calls}, res.Counts.Tools["get_thing"], r.id)
		assert.Equal(t, 1, res.Counts.Start, r.id) // update_thing's write-ahead record
		assert.Equal(t, map[string]int{r.id: r.calls + 2}, res.Counts.Instances, r.id)

		// Every line, records included, names the replica, under the MAC.
		for _, l := range readLines(t, filepath.Join(dir, r.id+".jsonl")) {
			if l != "" {
				assert.Contains(t, l, `"instance":"`+r.id+`"`)
			}
		}
	}

	// A record moved to another replica by editing its instance fails.
	path := filepath.Join(dir, "replica-a.jsonl")
	lines := readLines(t, path)
	i := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, `"tool":"get_thing"`) })
	require.Positive(t, i)
	lines[i] = strings.Replace(lines[i], `"instance":"replica-a"`, `"instance":"replica-b"`, 1)
	writeLines(t, path, lines)
	res, err := verifyReplica(t, dir, witness, "replica-a")
	require.Error(t, err)
	assert.Equal(t, audit.ProblemAltered, res.Problems[0].Kind)
	assert.Equal(t, uint64(i+1), res.Problems[0].Seq)
	assert.Zero(t, res.Counts.Instances["replica-b"], "an altered record is not counted")
}

// One replica's log deleted: the two others still verify clean against
// the shared witness, and the replica restarted on a new file finds its
// own lost log in the witness (not another replica's), names it in its
// genesis line, and that log alone is reported missing.
func TestFleetOneReplicaLogDeletedIsReportedForThatReplicaOnly(t *testing.T) {
	dir, witness := t.TempDir(), filepath.Join(t.TempDir(), "witness.jsonl")
	runFleet(t, dir, witness)
	cps, err := audit.ReadCheckpoints(witness)
	require.NoError(t, err)
	var lost audit.Checkpoint
	for _, c := range cps {
		if c.Instance == "replica-b" {
			lost = c
		}
	}
	require.NotEmpty(t, lost.Log)
	require.NoError(t, os.Remove(filepath.Join(dir, "replica-b.jsonl")))

	for _, id := range []string{"replica-a", "replica-c"} {
		res, err := verifyReplica(t, dir, witness, id)
		require.NoError(t, err, id)
		assert.Empty(t, res.Problems, id)
	}

	w, err := audit.NewFileWitness(witness)
	require.NoError(t, err)
	defer w.Close()
	var logged syncBuffer
	s, err := openFile(filepath.Join(dir, "replica-b.jsonl"), audit.WithInstance("replica-b"), audit.WithWitness(w), audit.WithFileLogger(newJSONLogger(&logged)))
	require.NoError(t, err)
	require.NotNil(t, s.Recovered().Predecessor)
	assert.Equal(t, lost.Log, s.Recovered().Predecessor.Log)
	assert.Equal(t, lost.Seq, s.Recovered().Predecessor.Seq)
	require.NoError(t, s.Close(context.Background()))
	assert.Contains(t, logged.String(), `"predecessor_log":"`+lost.Log+`"`)

	res, err := verifyReplica(t, dir, witness, "replica-b")
	require.Error(t, err)
	require.Len(t, res.Problems, 1, fmt.Sprint(res.Problems))
	assert.Equal(t, audit.ProblemMissingLog, res.Problems[0].Kind)
	assert.Equal(t, lost.Log, res.Problems[0].Log)
	assert.Equal(t, "replica-b", res.Problems[0].Instance)
	assert.Equal(t, lost.Seq, res.Problems[0].To)
	for _, id := range []string{"replica-a", "replica-c"} {
		res, err := verifyReplica(t, dir, witness, id)
		require.NoError(t, err, id)
		assert.Empty(t, res.Problems, id)
	}
}

// An attacker who can write replica A's file but lacks the key replaces
// A's log with one of their own under A's instance id: it fails (every
// line under an unknown key), and the witness names A's real log as
// missing, but not the other replicas' logs.
func TestFleetLogForgedUnderAnInstanceIDFails(t *testing.T) {
	dir, witness := t.TempDir(), filepath.Join(t.TempDir(), "witness.jsonl")
	runFleet(t, dir, witness)
	path := filepath.Join(dir, "replica-a.jsonl")
	require.NoError(t, os.Remove(path))
	forger := mustKeyring(audit.Key{ID: "k1", Secret: []byte(strings.Repeat("attacker", 4))})
	s, err := audit.Open(path, audit.WithKeyring(forger), audit.WithInstance("replica-a"))
	require.NoError(t, err)
	writeN(t, s, 1, 5)
	require.NoError(t, s.Close(context.Background()))

	res, err := verifyReplica(t, dir, witness, "replica-a")
	require.Error(t, err)
	kinds := map[string]int{}
	var missing []string
	for _, p := range res.Problems {
		kinds[p.Kind]++
		if p.Kind == audit.ProblemMissingLog {
			missing = append(missing, p.Instance)
		}
	}
	assert.Equal(t, len(readLines(t, path))-1, kinds[audit.ProblemAltered], fmt.Sprint(res.Problems))
	assert.Equal(t, []string{"replica-a"}, missing)
	assert.Zero(t, res.Counts.Final, "no forged record is counted")
	assert.Empty(t, res.Instances, "no forged line is authentic")
}

// A second process cannot open a file another one holds: two writers
// would interleave two chains. The file is left as it was, and opens once
// the first writer closes it.
func TestSecondWriterOnOneFileIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	first, err := openFile(path, audit.WithInstance("a"))
	require.NoError(t, err)
	writeN(t, first, 1, 2)
	before, err := os.ReadFile(path)
	require.NoError(t, err)

	_, err = openFile(path, audit.WithInstance("a"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is in use by another process")
	assert.Contains(t, err.Error(), "own instance id and file")
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(before), string(after))
	writeN(t, first, 3, 1) // the first writer is undisturbed

	require.NoError(t, first.Close(context.Background()))
	again, err := openFile(path, audit.WithInstance("a"))
	require.NoError(t, err)
	require.NoError(t, again.Close(context.Background()))
	_, err = audit.Verify(testKeys, path)
	require.NoError(t, err)
}

// Two writers that both continued one chain in one file (what the lock
// prevents on one host; a shared volume without locks does not) leave
// authentic records forking at the same seq: the verifier says so.
func TestInterleavedWritersAreNamed(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.jsonl"), filepath.Join(dir, "b.jsonl")
	s, err := openFile(a, audit.WithInstance("x"))
	require.NoError(t, err)
	writeN(t, s, 1, 3)
	require.NoError(t, s.Close(context.Background()))
	common := readLines(t, a)
	writeLines(t, b, common)
	for _, p := range []string{a, b} {
		s, err := openFile(p, audit.WithInstance("x"))
		require.NoError(t, err)
		writeN(t, s, 10, 2)
		require.NoError(t, s.Close(context.Background()))
	}
	la, lb := readLines(t, a), readLines(t, b)
	n := len(common) - 1
	var mixed []string
	mixed = append(mixed, common[:n]...)
	for i := n; i < len(la)-1; i++ {
		mixed = append(mixed, la[i], lb[i])
	}
	writeLines(t, a, mixed)

	res, err := audit.Verify(testKeys, a)
	require.Error(t, err)
	var interleaved []audit.VerifyError
	for _, p := range res.Problems {
		if p.Kind == audit.ProblemInterleaved {
			interleaved = append(interleaved, p)
		}
	}
	require.Len(t, interleaved, 1, fmt.Sprint(res.Problems))
	assert.Contains(t, interleaved[0].Reason, "two processes appended to")
	assert.Contains(t, interleaved[0].Reason, "own instance id and file")
	assert.Equal(t, uint64(n+1), interleaved[0].Seq)
}

func TestInstanceIDIsValidated(t *testing.T) {
	dir := t.TempDir()
	for _, bad := range []string{"", "a/b", `a\b`, "..", ".hidden", "a b", "ä", "web.000001", strings.Repeat("x", audit.MaxInstanceLen+1)} {
		path := filepath.Join(dir, "sub", "audit.jsonl")
		_, err := openFile(path, audit.WithInstance(bad))
		require.Error(t, err, bad)
		assert.Contains(t, err.Error(), "WithInstance")
		_, serr := os.Stat(filepath.Dir(path))
		assert.ErrorIs(t, serr, os.ErrNotExist, "nothing is created for %q", bad)
	}
	require.NoError(t, audit.CheckInstance(strings.Repeat("x", audit.MaxInstanceLen)))
	require.NoError(t, audit.CheckInstance("web-1.prod_eu"))
	require.NoError(t, audit.CheckInstance("web.00001"))

	// The default is stable for a path, differs between two paths, and is
	// a valid id.
	p1, p2 := filepath.Join(dir, "one.jsonl"), filepath.Join(dir, "two.jsonl")
	assert.Equal(t, audit.DefaultInstance(p1), audit.DefaultInstance(p1))
	assert.NotEqual(t, audit.DefaultInstance(p1), audit.DefaultInstance(p2))
	require.NoError(t, audit.CheckInstance(audit.DefaultInstance(p1)))
	s, err := openFile(p1)
	require.NoError(t, err)
	assert.Equal(t, audit.DefaultInstance(p1), s.Recovered().Instance)
	require.NoError(t, s.Close(context.Background()))
}

// A log written before instance ids (testdata: records without one, a
// random id per process in the genesis and checkpoint lines) keeps
// verifying, and a sink with an instance id resumes it; the records then
// say which were written by a named replica.
func TestLogWrittenBeforeInstanceIDsKeepsVerifying(t *testing.T) {
	old, err := os.ReadFile(filepath.Join("testdata", "legacy-no-instance.jsonl"))
	require.NoError(t, err)
	dir := t.TempDir()
	path := filepath.Join(dir, "legacy.jsonl")
	require.NoError(t, os.WriteFile(path, old, 0o600))

	res, err := audit.Verify(testKeys, path)
	require.NoError(t, err)
	assert.Equal(t, 6, res.Counts.Final)
	assert.Equal(t, map[string]int{"ok": 4, "tool_error": 2}, res.Counts.Outcomes)
	assert.Equal(t, map[string]int{"": 6}, res.Counts.Instances)
	assert.Len(t, res.Instances, 2, "one random id per process that wrote it")

	s, err := openFile(path, audit.WithInstance("replica-a"))
	require.NoError(t, err)
	writeN(t, s, 100, 2)
	require.NoError(t, s.Close(context.Background()))
	res, err = audit.Verify(testKeys, path)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"": 6, "replica-a": 2}, res.Counts.Instances)
	assert.Equal(t, "replica-a", res.Instances[len(res.Instances)-1])

	rep, err := audit.VerifyDir(context.Background(), dir, audit.VerifyConfig{Keys: testKeys})
	require.NoError(t, err)
	require.Len(t, rep.Chains, 1)
	assert.Equal(t, "replica-a", rep.Chains[0].Instance)
}
