package serve_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/serve"
)

// startReplica sets up a notes server with args and connects a client to
// it in memory.
func startReplica(t *testing.T, args ...string) (*serve.Server, *mcp.ClientSession, error) {
	t.Helper()
	var r ran
	ctx := context.Background()
	s, err := serve.New(ctx, notesConfig(&r), append([]string{"-approver", "deny"}, args...), serve.IO{Stderr: io.Discard, Getenv: noEnv})
	if err != nil {
		return nil, nil, err
	}
	st, ct := mcp.NewInMemoryTransports()
	ss, err := s.MCP().MCPServer().Connect(ctx, st, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ss.Close() })
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil).Connect(ctx, ct, nil)
	require.NoError(t, err)
	return s, cs, nil
}

// Two replicas of one server, each under its instance id, write one file
// each from the -audit template and share a witness; each file verifies
// against it and counts the calls its replica served. A third process
// under a live replica's id is refused: it would write the same file.
func TestReplicasWriteOneAuditFilePerInstance(t *testing.T) {
	dir := t.TempDir()
	key, witness := filepath.Join(t.TempDir(), "audit.key"), filepath.Join(t.TempDir(), "witness.jsonl")
	keys, _, err := audit.LoadOrCreateKeyFile(key)
	require.NoError(t, err)
	common := []string{"-audit", filepath.Join(dir, "{instance}.jsonl"), "-audit-key", key, "-audit-witness", witness}
	calls := map[string]int{"web-1": 2, "web-2": 1}
	servers := map[string]*serve.Server{}
	for _, id := range []string{"web-1", "web-2"} {
		s, cs, err := startReplica(t, append(common, "-instance-id", id)...)
		require.NoError(t, err)
		servers[id] = s
		for range calls[id] {
			res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_note", Arguments: map[string]any{"id": "n1"}})
			require.NoError(t, err)
			require.False(t, res.IsError)
		}
		require.NoError(t, cs.Close())
	}

	_, _, err = startReplica(t, append(common, "-instance-id", "web-1")...)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "web-1.jsonl is in use by another process")

	for _, s := range servers {
		require.NoError(t, s.Close(context.Background()))
	}
	cps, err := audit.ReadCheckpoints(witness)
	require.NoError(t, err)
	for id, n := range calls {
		res, err := audit.VerifyWith(audit.VerifyConfig{Keys: keys, Checkpoints: cps, Witnessed: true, Instance: id}, filepath.Join(dir, id+".jsonl"))
		require.NoError(t, err, id)
		assert.Equal(t, []string{id}, res.Instances)
		assert.Equal(t, map[string]int{"ok": n}, res.Counts.Outcomes, id)
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.ElementsMatch(t, []string{"web-1.jsonl", "web-2.jsonl"}, names)
}

// A bad -instance-id is refused before anything is opened; without one,
// the replica writes under its default id, in the file that names it.
func TestInstanceIDFlag(t *testing.T) {
	dir := t.TempDir()
	for _, bad := range []string{"../x", "a/b", ".hidden", "has space"} {
		_, _, err := startReplica(t, "-audit", filepath.Join(dir, "{instance}.jsonl"), "-instance-id", bad)
		require.Error(t, err, bad)
		assert.Contains(t, err.Error(), "-instance-id")
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing is created for a bad id")

	tmpl := filepath.Join(dir, "{instance}.jsonl")
	s, _, err := startReplica(t, "-audit", tmpl)
	require.NoError(t, err)
	require.NoError(t, s.Close(context.Background()))
	logs, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	require.NoError(t, err)
	require.Len(t, logs, 1)
	id := strings.TrimSuffix(filepath.Base(logs[0]), ".jsonl")
	assert.NotContains(t, id, "{")
	keys, err := audit.ReadKeyFile(filepath.Join(dir, "fleet.jsonl.key"))
	require.NoError(t, err)
	res, err := audit.VerifyWith(audit.VerifyConfig{Keys: keys, Instance: id}, logs[0])
	require.NoError(t, err)
	assert.Equal(t, []string{id}, res.Instances)
}

// A replica of a fleet (shared state connected) without -audit writes
// <name>-audit/{instance}.jsonl; a lone server keeps <name>-audit.jsonl.
func TestFleetReplicaDefaultsToOneAuditFilePerInstance(t *testing.T) {
	dir := t.TempDir()
	var r ran
	cfg := fleetConfig(&r, serve.Shared{Replay: &spyReplay{}}, nil)
	cfg.AuditFile = filepath.Join(dir, "notes-audit.jsonl")
	for _, id := range []string{"replica-a", "replica-b"} {
		s, err := serve.New(context.Background(), cfg, []string{"-instance-id", id}, serve.IO{Stderr: io.Discard, Getenv: fleetEnv})
		require.NoError(t, err)
		require.NoError(t, s.Close(context.Background()))
	}
	for _, id := range []string{"replica-a", "replica-b"} {
		_, err := os.Stat(filepath.Join(dir, "notes-audit", id+".jsonl"))
		require.NoError(t, err, id)
	}
	_, err := os.Stat(cfg.AuditFile)
	assert.ErrorIs(t, err, os.ErrNotExist)
	// One development key for the directory, which verifies as a whole.
	keys, err := audit.ReadKeyFile(filepath.Join(dir, "notes-audit", "fleet.jsonl.key"))
	require.NoError(t, err)
	rep, err := audit.VerifyDir(context.Background(), filepath.Join(dir, "notes-audit"), audit.VerifyConfig{Keys: keys})
	require.NoError(t, err)
	assert.Len(t, rep.Chains, 2)
	assert.NotNil(t, rep.Instances()["replica-b"])

	lone := notesConfig(&r)
	lone.AuditFile = cfg.AuditFile
	s, err := serve.New(context.Background(), lone, []string{"-instance-id", "replica-a", "-approver", "deny"}, serve.IO{Stderr: io.Discard, Getenv: noEnv})
	require.NoError(t, err)
	require.NoError(t, s.Close(context.Background()))
	_, err = os.Stat(cfg.AuditFile)
	require.NoError(t, err)
}
