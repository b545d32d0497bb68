package audit_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
)

// A witness file deleted or swapped under the running server (here for a
// link to /dev/null) fails the next checkpoint instead of sending it to
// the deleted file: the error is returned and the sink logs it.
func TestFileWitnessSwappedUnderTheServerFailsCheckpoints(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(path string) error
		want   string
	}{
		{"deleted", os.Remove, "was removed"},
		{"linked to /dev/null", func(p string) error {
			if err := os.Remove(p); err != nil {
				return err
			}
			return os.Symlink(os.DevNull, p)
		}, "was replaced"},
		{"replaced", func(p string) error {
			if err := os.Rename(p, p+".old"); err != nil {
				return err
			}
			return os.WriteFile(p, nil, 0o600)
		}, "was replaced"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path, wpath := filepath.Join(dir, "audit.jsonl"), filepath.Join(dir, "w", "witness.jsonl")
			w, err := audit.NewFileWitness(wpath)
			require.NoError(t, err)
			defer w.Close()
			var logged syncBuffer
			s, err := openFile(path, audit.WithWitness(w), audit.WithCheckpoints(2, 0), audit.WithFileLogger(newJSONLogger(&logged)))
			require.NoError(t, err)
			writeN(t, s, 1, 2)

			require.NoError(t, tc.change(wpath))
			writeN(t, s, 3, 2)
			require.NoError(t, s.Close(context.Background()))
			assert.Contains(t, logged.String(), "a witness did not take a checkpoint")
			assert.Contains(t, logged.String(), tc.want)

			// Called directly, the witness says so too.
			err = w.Checkpoint(context.Background(), audit.Checkpoint{Log: "l", Seq: 1})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
