package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// TestStdioBinaryWithRealClient builds the example, runs it as a
// subprocess with DATABASE_URL in its environment, and drives it over
// stdio with the go-sdk client, as an MCP client would.
func TestStdioBinaryWithRealClient(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the example binary")
	}
	c := needPG(t)
	bin := filepath.Join(t.TempDir(), "postgres-mcp")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run(), "build the example")

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-statement-timeout=2s", "-max-conns=2", "-audit", filepath.Join(t.TempDir(), "audit.jsonl"))
	cmd.Env = append(os.Environ(), envDatabaseURL+"="+c.readerURL())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "stdio-test", Version: "1"}, nil).Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	require.NoError(t, err)

	lr, err := cs.ListTools(ctx, nil)
	require.NoError(t, err)
	var names []string
	for _, tool := range lr.Tools {
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	assert.Equal(t, []string{"describe_table", "explain_query", "list_schemas", "list_tables", "query"}, names)

	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "query", Arguments: map[string]any{"sql": "SELECT name FROM shop.customers ORDER BY id"}})
	require.NoError(t, err)
	require.False(t, res.IsError, mcpkittest.Text(res))
	assert.Contains(t, mcpkittest.Text(res), `["Ada"],["Grace"],["Linus"]`)

	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "query", Arguments: map[string]any{"sql": "WITH x AS (DELETE FROM shop.orders RETURNING *) SELECT * FROM x"}})
	require.NoError(t, err)
	assert.True(t, res.IsError)
	assert.True(t, strings.HasPrefix(mcpkittest.Text(res), "refused: "), mcpkittest.Text(res))

	require.NoError(t, cs.Close(), "the server exits cleanly when stdin closes; stderr:\n%s", stderr.String())
	assert.Equal(t, 0, cmd.ProcessState.ExitCode())
	assert.Contains(t, stderr.String(), "serving MCP over stdio")
	assert.NotContains(t, stderr.String(), c.password)

	playStdioResources(t, bin, c)
}

// TestSetupSQL checks the shipped script's own guarantees: it refuses to
// run without its variables, it is idempotent, and a second run grants a
// second schema.
func TestSetupSQL(t *testing.T) {
	c := needPG(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	setup, err := filepath.Abs("setup.sql")
	require.NoError(t, err)

	out, err := c.Psql(ctx, testDB, "-v", "schema=shop", "-f", setup)
	require.Error(t, err, "no role: %s", out)
	assert.Contains(t, string(out), "set the role name with -v role=")

	_, err = c.super.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS reports; CREATE TABLE IF NOT EXISTS reports.daily (day date PRIMARY KEY, revenue numeric)`)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, err := c.super.Exec(context.Background(), "DROP SCHEMA reports CASCADE")
		assert.NoError(t, err)
	})
	for range 2 {
		out, err = c.Psql(ctx, testDB, "-v", "role="+readerRole, "-v", "password="+c.password, "-v", "schema=reports", "-v", "connection_limit=20", "-f", setup)
		require.NoError(t, err, "%s", out)
	}
	h := newHarness(t, nil)
	var tables ListTablesOut
	h.ok(t, "list_tables", map[string]any{"schema": "reports"}, &tables)
	require.Len(t, tables.Tables, 1)
	assert.Equal(t, "daily", tables.Tables[0].Name)

	// A role that is a member of another role is refused, and the script
	// rolls back.
	_, err = c.super.Exec(ctx, "CREATE ROLE powerful; GRANT powerful TO "+readerRole)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = c.super.Exec(context.Background(), "DROP ROLE powerful") })
	out, err = c.Psql(ctx, testDB, "-v", "role="+readerRole, "-v", "schema=shop", "-v", "connection_limit=20", "-f", setup)
	require.Error(t, err)
	assert.Contains(t, string(out), "is a member of powerful")
	_, err = c.super.Exec(ctx, "REVOKE powerful FROM "+readerRole)
	require.NoError(t, err)
}
