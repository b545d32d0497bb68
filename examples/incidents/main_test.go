package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// buildExample compiles the example into a temporary directory.
func buildExample(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "incidents")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Run(), "build the example")
	return bin
}

// TestStdioExampleWithRealClient runs the built binary as a subprocess and
// drives it with the go-sdk client over stdio, as an agent would.
func TestStdioExampleWithRealClient(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the example binary")
	}
	bin := buildExample(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-audit", filepath.Join(t.TempDir(), "audit.jsonl"))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	// The user confirms in the client when the server asks for approval
	// (delete_incident always needs it).
	var asked atomic.Int32
	client := mcp.NewClient(&mcp.Implementation{Name: "stdio-test", Version: "1"}, &mcp.ClientOptions{
		ElicitationHandler: func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			asked.Add(1)
			return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"confirm": true}}, nil
		},
	})
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	require.NoError(t, err)

	lr, err := cs.ListTools(ctx, nil)
	require.NoError(t, err)
	var names []string
	wantAnn := map[string][3]bool{ // readOnly, destructive, idempotent
		"list_incidents":   {true, false, true},
		"get_incident":     {true, false, true},
		"search_incidents": {true, false, true},
		"resolve_incident": {false, false, false},
		"delete_incident":  {false, true, false},
	}
	for _, tool := range lr.Tools {
		names = append(names, tool.Name)
		assert.NotEmpty(t, tool.Description, tool.Name)
		schema := tool.InputSchema.(map[string]any)
		assert.Equal(t, "object", schema["type"], tool.Name)
		for prop, v := range schema["properties"].(map[string]any) {
			assert.NotEmpty(t, v.(map[string]any)["description"], "%s.%s has no description", tool.Name, prop)
		}
		assert.NotNil(t, tool.OutputSchema, tool.Name)
		want := wantAnn[tool.Name]
		require.NotNil(t, tool.Annotations, tool.Name)
		assert.Equal(t, want[0], tool.Annotations.ReadOnlyHint, tool.Name)
		assert.Equal(t, want[2], tool.Annotations.IdempotentHint, tool.Name)
		if !want[0] {
			require.NotNil(t, tool.Annotations.DestructiveHint, tool.Name)
			assert.Equal(t, want[1], *tool.Annotations.DestructiveHint, tool.Name)
		}
	}
	slices.Sort(names)
	assert.Equal(t, []string{"delete_incident", "get_incident", "list_incidents", "resolve_incident", "search_incidents"}, names)

	callOK := func(name string, args map[string]any) map[string]any {
		t.Helper()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
		require.NoError(t, err)
		require.False(t, res.IsError, "%s: %s", name, mcpkittest.Text(res))
		var out map[string]any
		require.NoError(t, json.Unmarshal([]byte(mcpkittest.Text(res)), &out))
		return out
	}
	page := callOK("list_incidents", map[string]any{"status": "open", "limit": 5})
	assert.Len(t, page["incidents"], 5)
	require.NotEmpty(t, page["next_cursor"])
	page2 := callOK("list_incidents", map[string]any{"status": "open", "limit": 5, "cursor": page["next_cursor"]})
	assert.NotEqual(t, page["incidents"], page2["incidents"])
	inc := callOK("get_incident", map[string]any{"id": "INC-1002"})
	assert.Equal(t, "INC-1002", inc["id"])
	found := callOK("search_incidents", map[string]any{"query": "canary"})
	assert.NotEmpty(t, found["incidents"])
	resolved := callOK("resolve_incident", map[string]any{"id": "INC-1002", "resolution": "rolled back the canary"})
	assert.Equal(t, "resolved", resolved["status"])
	require.Zero(t, asked.Load(), "no approval asked for reads and a severity 2 resolve")
	callOK("delete_incident", map[string]any{"id": "INC-1003", "reason": "duplicate"})
	assert.EqualValues(t, 1, asked.Load(), "the delete was approved in the client")

	bad := []struct {
		tool string
		args map[string]any
		want string
	}{
		{"list_incidents", map[string]any{"limit": 101}, "arguments.limit: must be <= 100 (got 101)"},
		{"list_incidents", map[string]any{"status": "closed"}, `arguments.status: must be one of "open", "acknowledged", "resolved"`},
		{"list_incidents", map[string]any{"cursor": "garbage"}, "arguments.cursor: not a cursor this server issued"},
		{"get_incident", map[string]any{}, "arguments.id: is required"},
		{"get_incident", map[string]any{"id": 1002}, "arguments.id: must be a string (got integer)"},
		{"get_incident", map[string]any{"id": "INC-1002", "verbose": true}, "arguments.verbose: unknown field"},
		{"get_incident", map[string]any{"id": "1002"}, "arguments.id: must match the pattern"},
		{"get_incident", map[string]any{"id": "INC-1003"}, "incident INC-1003 not found"},
		{"search_incidents", map[string]any{"query": "x"}, "arguments.query: must be at least 2 characters"},
	}
	for _, b := range bad {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: b.tool, Arguments: b.args})
		require.NoError(t, err)
		assert.True(t, res.IsError, b.want)
		assert.Contains(t, mcpkittest.Text(res), b.want)
	}

	// Close shuts stdin and waits for the process; it reports a non-zero exit
	// or a process that had to be signalled.
	require.NoError(t, cs.Close(), "the server exits cleanly when stdin closes; stderr:\n%s", stderr.String())
	assert.Equal(t, 0, cmd.ProcessState.ExitCode())
	assert.Contains(t, stderr.String(), "serving MCP over stdio")
}

// TestScopesAreEnforcedForTheLocalUser checks that the policies' scopes
// hold on stdio too: a local user without incidents:admin cannot delete.
func TestScopesAreEnforcedForTheLocalUser(t *testing.T) {
	store, err := NewStore(time.Now)
	require.NoError(t, err)
	readOnly, err := newServer(store, mcpkit.WithDefaultIdentity(mcpkit.Identity{Subject: "dev", Scopes: []string{ScopeRead}}))
	require.NoError(t, err)
	h := mcpkittest.NewHarness(t, readOnly)
	assert.Len(t, h.List(), 3, "only the read tools are visible")
	res := h.MustCall("delete_incident", map[string]any{"id": "INC-1001", "reason": "dup"})
	assert.True(t, res.IsError)
	assert.Contains(t, mcpkittest.Text(res), "requires scope incidents:admin")
	_, ok := store.Get("INC-1001")
	assert.True(t, ok, "the incident still exists")
}
