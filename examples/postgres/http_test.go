package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/examples/internal/servertest"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// The static development tokens in testdata/tokens.json: alice may browse
// and query, bob may only browse.
const (
	aliceDevToken = "dev-alice-0123456789abcdef"
	bobDevToken   = "dev-bob-0123456789abcdef"
)

// startHTTP runs the whole program in-process over streamable HTTP on a
// free loopback port, as the reader role, and waits until it is healthy.
func startHTTP(t *testing.T, c *cluster, args ...string) string {
	t.Helper()
	getenv := func(k string) string {
		if k == envDatabaseURL {
			return c.readerURL()
		}
		return ""
	}
	return servertest.StartHTTP(t, func(ctx context.Context, args []string, stderr io.Writer) error {
		return run(ctx, args, getenv, strings.NewReader(""), io.Discard, stderr)
	}, args...)
}

// TestHTTPWithStaticTokens serves the database over streamable HTTP with
// the static development tokens: each token's scopes decide what its
// holder sees and may call, the database refuses a write for the caller
// who may query, and every call and refusal is in the audit file, whose
// chain verifies and which holds no secret.
func TestHTTPWithStaticTokens(t *testing.T) {
	c := needPG(t)
	auditFile := filepath.Join(t.TempDir(), "audit.jsonl")
	base := startHTTP(t, c, "-tokens", "testdata/tokens.json", "-audit", auditFile, "-statement-timeout=2s")
	ctx := context.Background()

	alice := servertest.Connect(t, base, aliceDevToken)
	assert.Equal(t, []string{"describe_table", "explain_query", "list_schemas", "list_tables", "query"}, servertest.ToolNames(t, alice))
	res, err := alice.CallTool(ctx, &mcp.CallToolParams{Name: "query", Arguments: map[string]any{"sql": "SELECT name FROM shop.customers ORDER BY id"}})
	require.NoError(t, err)
	require.False(t, res.IsError, mcpkittest.Text(res))
	assert.Contains(t, mcpkittest.Text(res), `["Ada"],["Grace"],["Linus"]`)
	// Past the friendly statement check: the database refuses it.
	res, err = alice.CallTool(ctx, &mcp.CallToolParams{Name: "query", Arguments: map[string]any{"sql": "SELECT nextval('shop.orders_id_seq')"}})
	require.NoError(t, err)
	require.True(t, res.IsError)
	assert.True(t, strings.HasPrefix(mcpkittest.Text(res), "refused: "), mcpkittest.Text(res))

	bob := servertest.Connect(t, base, bobDevToken)
	assert.Equal(t, []string{"describe_table", "list_schemas", "list_tables"}, servertest.ToolNames(t, bob), "db:read alone hides the SQL tools")
	_, err = bob.CallTool(ctx, &mcp.CallToolParams{Name: "query", Arguments: map[string]any{"sql": "SELECT 1"}})
	require.Error(t, err, "the transport refuses a call the token's scopes do not cover")
	assert.Contains(t, err.Error(), "requires scope db:query")

	resp, err := http.Post(base+"/mcp", "application/json", strings.NewReader(`{}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, `Bearer resource_metadata="`+base+`/.well-known/oauth-protected-resource/mcp"`, resp.Header.Get("WWW-Authenticate"))

	var recs []audit.Record
	require.Eventually(t, func() bool {
		recs = servertest.ReadAudit(t, auditFile)
		return len(recs) >= 4
	}, 5*time.Second, 20*time.Millisecond)
	var got []string
	for _, r := range recs {
		got = append(got, r.Principal.Subject+" "+r.Tool+" "+r.Outcome)
	}
	assert.Equal(t, []string{"alice query ok", "alice query tool_error", "bob query denied_scope", "  unauthenticated"}, got)
	assert.Contains(t, recs[1].Error, "permission denied for sequence orders_id_seq (SQLSTATE 42501)", "the database's own error is the audited cause")
	assert.NotContains(t, mcpkittest.Text(res), "SQLSTATE", "the client sees the refusal, not the database error")
	raw, err := os.ReadFile(auditFile)
	require.NoError(t, err)
	assert.NotContains(t, string(raw), c.password)
	_, err = servertest.VerifyAudit(t, auditFile)
	assert.NoError(t, err, "the chain verifies")
}

// TestHTTPFlagsRefuseUnsafeCombinations: the postgres server shares the
// transport's refusals with every serve server, after its own flag
// checks and before it connects to the database.
func TestHTTPFlagsRefuseUnsafeCombinations(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-http", "127.0.0.1:0"}, "never runs without authentication"},
		{[]string{"-http", "0.0.0.0:0", "-no-auth"}, "-no-auth is refused on non-loopback"},
		{[]string{"-max-conns", "0"}, "-max-conns 0: want between 1 and 100"},
		{[]string{"-approver", "maybe"}, `-approver "maybe": want elicit, console or deny`},
	} {
		err := run(context.Background(), append(tc.args, "-audit", filepath.Join(t.TempDir(), "a.jsonl")), func(string) string { return "" }, strings.NewReader(""), io.Discard, io.Discard)
		assert.ErrorContains(t, err, tc.want, tc.args)
	}
}
