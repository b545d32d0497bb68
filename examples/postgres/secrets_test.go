package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/examples/internal/servertest"
)

// leakProbes are calls that exercise success, refusals, timeouts and
// errors: every path a connection string could leak through.
var leakProbes = []struct {
	tool string
	args map[string]any
}{
	{"list_schemas", map[string]any{}},
	{"list_tables", map[string]any{"schema": "shop"}},
	{"list_tables", map[string]any{"schema": "secret"}},
	{"describe_table", map[string]any{"schema": "shop", "table": "orders"}},
	{"query", map[string]any{"sql": "SELECT current_user, current_setting('application_name')"}},
	{"query", map[string]any{"sql": "SELECT 1; DELETE FROM shop.orders"}},
	{"query", map[string]any{"sql": "DELETE FROM shop.orders"}},
	{"query", map[string]any{"sql": "SELECT pg_terminate_backend(1)"}},
	{"query", map[string]any{"sql": "SELECT pg_sleep(5)"}},
	{"query", map[string]any{"sql": "SELECT nope"}},
	{"query", map[string]any{"sql": "SELECT * FROM secret.api_keys"}},
	{"query", map[string]any{"sql": "SELECT setting FROM pg_settings WHERE name = 'password_encryption'"}},
	{"explain_query", map[string]any{"sql": "SELECT * FROM shop.orders", "format": "json"}},
	{"nope_tool", map[string]any{}},
}

// TestPasswordNeverLeaks runs the whole program in-process over stdio
// pipes with a DATABASE_URL carrying a random password, drives every kind
// of outcome, and looks for the password (and the URL) in the log, in every
// result, and in every internal cause an audit record would hold.
func TestPasswordNeverLeaks(t *testing.T) {
	c := needPG(t)
	secrets := []string{c.password, c.readerURL()}
	getenv := func(k string) string {
		if k == envDatabaseURL {
			return c.readerURL()
		}
		return ""
	}
	auditFile := filepath.Join(t.TempDir(), "audit.jsonl")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	stderr := &lockedWriter{w: &strings.Builder{}}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-statement-timeout=300ms", "-audit", auditFile}, getenv, inR, outW, stderr)
		outW.Close()
	}()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "leak-test", Version: "1"}, nil).Connect(ctx, &mcp.IOTransport{Reader: outR, Writer: inW}, nil)
	require.NoError(t, err)
	var seen strings.Builder
	for _, p := range leakProbes {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: p.tool, Arguments: p.args})
		if err != nil {
			seen.WriteString(err.Error())
			continue
		}
		b, _ := json.Marshal(res)
		seen.Write(b)
	}
	require.NoError(t, cs.Close())
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-ctx.Done():
		t.Fatal("the server did not stop when stdin closed")
	}
	logs := stderr.w.(*strings.Builder).String()
	assert.Contains(t, logs, "connected to PostgreSQL")
	assert.Contains(t, logs, fmt.Sprintf("target=mcp_reader@127.0.0.1:%d/app", c.Port()))
	assert.Contains(t, seen.String(), "mcpkit-postgres", "the probes really ran")
	for _, s := range secrets {
		assert.NotContains(t, logs, s, "the log holds the secret")
		assert.NotContains(t, seen.String(), s, "a result holds the secret")
	}
	// The audit file holds every call with its internal cause, and no
	// secret.
	auditText, err := os.ReadFile(auditFile)
	require.NoError(t, err)
	assert.Len(t, servertest.ReadAudit(t, auditFile), len(leakProbes), "one audit record per call")
	assert.Contains(t, string(auditText), `"outcome":"unknown_tool"`)
	for _, s := range secrets {
		assert.NotContains(t, string(auditText), s, "the audit file holds the secret")
	}

	// What an audit record would hold: every internal cause.
	h := newHarness(t, func(cfg *config) { cfg.statementTimeout = 300 * time.Millisecond; cfg.precheck = false })
	for _, p := range leakProbes {
		_, _ = h.cs.CallTool(ctx, &mcp.CallToolParams{Name: p.tool, Arguments: p.args})
	}
	require.Len(t, h.rec.all(), len(leakProbes), "every call, the unknown tool too, reached the audit middleware")
	for _, r := range h.rec.all() {
		if r.err == nil {
			continue
		}
		cause := fmt.Sprintf("%+v %#v", r.err, r.err)
		for _, s := range secrets {
			assert.NotContains(t, cause, s, "the %s cause holds the secret", r.tool)
		}
	}
}

// TestStartupErrorsHideThePassword covers the failures before serving: a
// wrong password, an unreachable server, a malformed URL, a superuser.
func TestStartupErrorsHideThePassword(t *testing.T) {
	c := needPG(t)
	const planted = "pLaNtEd-S3cret-Passw0rd"
	cases := []struct {
		name, url, want string
	}{
		{"wrong password", fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/%s?sslmode=disable", readerRole, planted, c.Port(), testDB), "password authentication failed"},
		{"unreachable", fmt.Sprintf("host=127.0.0.1 port=1 user=%s password=%s dbname=%s sslmode=disable", readerRole, planted, testDB), "is not reachable"},
		{"malformed", fmt.Sprintf("postgres://%s:%s@127.0.0.1:notaport/%s", readerRole, planted, testDB), "is not a valid PostgreSQL connection string"},
		{"malformed key=value", fmt.Sprintf("host=127.0.0.1 password='%s dbname=x", planted), "is not a valid PostgreSQL connection string"},
		{"unset", "", "$DATABASE_URL is not set"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stderr := &lockedWriter{w: &strings.Builder{}}
			getenv := func(k string) string {
				if k == envDatabaseURL {
					return tc.url
				}
				return ""
			}
			err := run(context.Background(), []string{"-connect-timeout=3s"}, getenv, strings.NewReader(""), io.Discard, stderr)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), planted)
			assert.NotContains(t, stderr.w.(*strings.Builder).String(), planted)
		})
	}
	t.Run("superuser", func(t *testing.T) {
		err := run(context.Background(), nil, func(string) string { return c.superURL(testDB) }, strings.NewReader(""), io.Discard, io.Discard)
		require.Error(t, err)
		assert.Contains(t, err.Error(), `refusing to serve as role "postgres": it is a superuser`)
	})
}
