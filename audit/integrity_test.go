package audit_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// A write tool's write-ahead record is acknowledged only once the file it
// went to is still the one at the path: a file removed or replaced under
// the running server refuses the very next write call, and its handler
// does not run (before, records went to the removed file for up to a
// second).
func TestAuditFileRemovedUnderTheServerRefusesTheNextWriteCall(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(path string) error
		want   string
	}{
		{"deleted", os.Remove, "removed under the server"},
		{"replaced", func(p string) error {
			if err := os.Rename(p, p+".moved"); err != nil {
				return err
			}
			return os.WriteFile(p, nil, 0o600)
		}, "replaced under the server"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.jsonl")
			// No background tick within the test: only the write path
			// can notice.
			file, err := openFile(path, audit.WithSyncInterval(time.Hour), audit.WithCheckpoints(0, 0))
			require.NoError(t, err)
			defer file.Close(context.Background())
			var logged syncBuffer
			srv, err := mcpkit.NewServer(&mcp.Implementation{Name: "things", Version: "1"},
				mcpkit.WithMiddleware(must(audit.Middleware(file, audit.WithLogger(newJSONLogger(&logged))))))
			require.NoError(t, err)
			var runs atomic.Int32
			mcpkit.MustAddTool(srv, mcpkit.Tool{Name: "update_thing", Description: "Update a thing.", Policy: mcpkit.Policy{Risk: mcpkit.Write, Public: true}},
				func(_ context.Context, in thingIn) (thingOut, error) {
					runs.Add(1)
					return thingOut{Name: in.Name}, nil
				})
			cs := mcpkittest.NewHarness(t, srv).Session

			res, err := callTool(t, cs, "update_thing", map[string]any{"name": "a"})
			require.NoError(t, err)
			require.False(t, res.IsError, mcpkittest.Text(res))
			require.EqualValues(t, 1, runs.Load())

			require.NoError(t, tc.change(path))
			res, err = callTool(t, cs, "update_thing", map[string]any{"name": "b"})
			require.NoError(t, err)
			assert.True(t, res.IsError)
			assert.Contains(t, mcpkittest.Text(res), "tool update_thing was not run: the audit log cannot record the call right now")
			assert.EqualValues(t, 1, runs.Load(), "the handler did not run")
			assert.Contains(t, logged.String(), tc.want)
		})
	}
}

// The tail of a log cut beyond a checkpoint, with a witness file, names
// the records cut; its head cut names the records before; a gap names the
// records missing.
func TestWitnessedLogDetectsHeadTailAndGaps(t *testing.T) {
	dir := t.TempDir()
	path, wpath := filepath.Join(dir, "audit.jsonl"), filepath.Join(dir, "elsewhere", "witness.jsonl")
	w, err := audit.NewFileWitness(wpath)
	require.NoError(t, err)
	defer w.Close()
	s, err := openFile(path, audit.WithWitness(w), audit.WithCheckpoints(5, 0))
	require.NoError(t, err)
	writeN(t, s, 1, 12)
	require.NoError(t, s.Close(context.Background()))
	cps, err := audit.ReadCheckpoints(wpath)
	require.NoError(t, err)
	// open (seq 2), after 5 and 10 records (seq 8, 14), close (seq 17)
	seqs := []uint64{}
	for _, c := range cps {
		seqs = append(seqs, c.Seq)
		assert.Equal(t, "k1", c.Kid)
	}
	require.Equal(t, []uint64{2, 8, 14, 17}, seqs)
	opts := audit.VerifyConfig{Keys: testKeys, Checkpoints: cps}
	res, err := audit.VerifyWith(opts, path)
	require.NoError(t, err)
	assert.Equal(t, 4, res.Checkpoints)

	lines := readLines(t, path)
	lines = lines[:len(lines)-1]
	check := func(edit []string, kind string, from, to uint64) {
		t.Helper()
		p := filepath.Join(dir, kind+".jsonl")
		writeLines(t, p, edit)
		res, err := audit.VerifyWith(opts, p)
		var ve *audit.VerifyError
		require.ErrorAs(t, err, &ve)
		var found bool
		for _, pr := range res.Problems {
			if pr.Kind == kind {
				found = true
				assert.Equal(t, [2]uint64{from, to}, [2]uint64{pr.From, pr.To}, pr.Reason)
			}
		}
		assert.True(t, found, "%s not among %+v", kind, res.Problems)
	}
	check(lines[:15], audit.ProblemTailTruncated, 16, 17)
	check(lines[:9], audit.ProblemTailTruncated, 10, 17)
	check(lines[4:], audit.ProblemHeadTruncated, 1, 4)
	check(append(append([]string{}, lines[:6]...), lines[9:]...), audit.ProblemGap, 7, 9)

	// A checkpoint forged into the witness (without the key) is refused.
	forged := cps[len(cps)-1]
	forged.Seq += 100
	res, err = audit.VerifyWith(audit.VerifyConfig{Keys: testKeys, Checkpoints: append(cps, forged)}, path)
	require.ErrorContains(t, err, "witness checkpoint 5 (seq 117): the checkpoint's MAC does not verify")
	assert.Len(t, res.Problems, 1)
	// Another log's checkpoints are ignored.
	other := cps[0]
	other.Log = "another-log"
	_, err = audit.VerifyWith(audit.VerifyConfig{Keys: testKeys, Checkpoints: append(cps, other)}, path)
	require.NoError(t, err)
}

// Checkpoints are written every T seconds when records were written, and
// reach an OpenTelemetry log pipeline through OTelWitness.
func TestIntervalCheckpointsReachTheWitness(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	var mu sync.Mutex
	var got []audit.Checkpoint
	s, err := openFile(path, audit.WithCheckpoints(0, 20*time.Millisecond), audit.WithWitness(audit.WitnessFunc(func(_ context.Context, c audit.Checkpoint) error {
		mu.Lock()
		got = append(got, c)
		mu.Unlock()
		return nil
	})))
	require.NoError(t, err)
	writeN(t, s, 1, 3)
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 2 && got[1].Reason == "interval" && got[1].Seq == 6
	}, 5*time.Second, 10*time.Millisecond)
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	assert.Len(t, got, 2, "no checkpoint while nothing is written")
	mu.Unlock()
	require.NoError(t, s.Close(context.Background()))
	res, err := audit.VerifyWith(audit.VerifyConfig{Keys: testKeys, Checkpoints: got}, path)
	require.NoError(t, err)
	assert.Equal(t, 3, res.Checkpoints)
}

func TestOTelWitnessEmitsCheckpoints(t *testing.T) {
	capture := &logCapture{}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(capture)))
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	s, err := openFile(path, audit.WithWitness(audit.OTelWitness(lp)))
	require.NoError(t, err)
	writeN(t, s, 1, 2)
	require.NoError(t, s.Close(context.Background()))
	require.NoError(t, lp.Shutdown(context.Background()))
	out := capture.String()
	assert.Contains(t, out, "audit checkpoint seq 2")
	assert.Contains(t, out, "reason=open")
	assert.Contains(t, out, "reason=close")
	assert.Contains(t, out, "kid=k1")
}
