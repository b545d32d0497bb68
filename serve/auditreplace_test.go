package serve_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
	"github.com/mcpkit-go/mcpkit/serve"
)

// runOnce serves one get_note call on stdio with the audit file, key and
// witness given, and returns what the server logged.
func runOnce(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var r ran
	var logged syncBuffer
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := serve.Run(context.Background(), notesConfig(&r), args, serve.IO{Stdin: inR, Stdout: outW, Stderr: &logged, Getenv: noEnv})
		_ = outW.Close()
		done <- err
	}()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil).
		Connect(context.Background(), &mcp.IOTransport{Reader: outR, Writer: inW}, nil)
	if err != nil {
		_ = inW.Close()
		select {
		case rerr := <-done:
			return logged.String(), rerr
		case <-time.After(15 * time.Second):
			t.Fatal(err)
		}
	}
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_note", Arguments: map[string]any{"id": "n1"}})
	require.NoError(t, err)
	require.False(t, res.IsError, mcpkittest.Text(res))
	require.NoError(t, cs.Close())
	waitDone(t, done)
	return logged.String(), nil
}

// The red team's replacement, played against the server: stop it, delete
// its audit file, start it again with the same key and witness. It says
// so at ERROR, and the log's genesis names the lost log, which Verify
// reports; joined last lines make it refuse to start.
func TestServerRestartedOnADeletedAuditFileNamesTheLostLog(t *testing.T) {
	dir := t.TempDir()
	path, key, witness := filepath.Join(dir, "a.jsonl"), filepath.Join(dir, "a.key"), filepath.Join(dir, "w", "w.jsonl")
	args := []string{"-audit", path, "-audit-key", key, "-audit-witness", witness}
	_, _, err := audit.LoadOrCreateKeyFile(key)
	require.NoError(t, err)
	first, err := runOnce(t, args...)
	require.NoError(t, err)
	assert.NotContains(t, first, "ERROR")
	cps, err := audit.ReadCheckpoints(witness)
	require.NoError(t, err)
	require.NotEmpty(t, cps)
	lost := cps[len(cps)-1]

	require.NoError(t, os.Remove(path))
	second, err := runOnce(t, args...)
	require.NoError(t, err)
	assert.Contains(t, second, "ERROR")
	assert.Contains(t, second, lost.Log)

	keys, err := audit.ReadKeyFile(key)
	require.NoError(t, err)
	all, err := audit.ReadCheckpoints(witness)
	require.NoError(t, err)
	res, err := audit.VerifyWith(audit.VerifyConfig{Keys: keys, Checkpoints: all, Witnessed: true}, path)
	require.Error(t, err)
	require.NotEmpty(t, res.Problems)
	assert.Equal(t, audit.ProblemMissingLog, res.Problems[0].Kind)
	assert.Equal(t, lost.Seq, res.Problems[0].To)

	// The new log, naming its predecessor, is resumed at the next start.
	third, err := runOnce(t, args...)
	require.NoError(t, err)
	assert.NotContains(t, third, "ERROR")

	// The last lines joined: complete records without a newline are no
	// crash, and the server refuses to start rather than cut them.
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	l := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	joined := strings.Join(l[:len(l)-3], "\n") + "\n" + strings.Join(l[len(l)-3:], "")
	require.NoError(t, os.WriteFile(path, []byte(joined), 0o600))
	_, err = runOnce(t, args...)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not a write torn by a crash")
	after, rerr := os.ReadFile(path)
	require.NoError(t, rerr)
	assert.Equal(t, joined, string(after))
}
