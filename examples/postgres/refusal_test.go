package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// writeAttempt is a statement that would change something, and the
// SQLSTATEs with which the database may refuse it.
type writeAttempt struct {
	name  string
	sql   string
	codes []string
	// friendly is whether the statement check catches it first; the
	// others look like reads and only the database can tell.
	friendly bool
}

func writeAttempts(superPID int, marker string) []writeAttempt {
	const readOnly, denied, multiple, inTx = "25006", "42501", "42601", "25001"
	return []writeAttempt{
		{"delete", "DELETE FROM shop.orders", []string{readOnly}, true},
		{"update", "UPDATE shop.customers SET name = 'x'", []string{readOnly}, true},
		{"insert", "INSERT INTO shop.customers (name) VALUES ('mallory')", []string{readOnly}, true},
		{"merge", "MERGE INTO shop.customers c USING (VALUES (1)) v(id) ON c.id = v.id WHEN MATCHED THEN DELETE", []string{readOnly}, true},
		{"drop", "DROP TABLE shop.orders", []string{readOnly}, true},
		{"truncate", "TRUNCATE shop.orders", []string{readOnly}, true},
		{"alter role", "ALTER ROLE mcp_reader SET default_transaction_read_only = off", []string{readOnly}, true},
		{"grant", "GRANT USAGE ON SCHEMA secret TO mcp_reader", []string{readOnly}, true},
		{"create temp", "CREATE TEMP TABLE scratch (x int)", []string{readOnly}, true},
		{"copy to program", fmt.Sprintf("COPY shop.customers TO PROGRAM 'touch %s'", marker), []string{denied}, true},
		{"copy from program", "COPY shop.customers (name) FROM PROGRAM 'echo mallory'", []string{denied, readOnly}, true},
		{"writable CTE", "WITH gone AS (DELETE FROM shop.orders RETURNING *) SELECT count(*) FROM gone", []string{readOnly}, true},
		{"select into", "SELECT * INTO shop.orders_copy FROM shop.orders", []string{readOnly}, true},
		{"multiple statements", "SELECT 1; DELETE FROM shop.orders", []string{multiple}, true},
		{"set role", "SET ROLE postgres", []string{denied}, true},
		{"set session authorization", "SET SESSION AUTHORIZATION postgres", []string{denied}, true},
		{"vacuum", "VACUUM shop.orders", []string{inTx}, true},
		{"do block", "DO $$ BEGIN DELETE FROM shop.orders; END $$", []string{readOnly}, true},
		// These look like reads: only the database stands in the way.
		{"terminate backend", fmt.Sprintf("SELECT pg_terminate_backend(%d)", superPID), []string{denied}, false},
		{"select for update", "SELECT * FROM shop.orders FOR UPDATE", []string{readOnly}, false},
		{"nextval", "SELECT nextval('shop.orders_id_seq')", []string{denied, readOnly}, false},
		{"read-write via set_config", "SELECT set_config('transaction_read_only', 'off', false)", []string{inTx}, false},
		{"read server file", "SELECT pg_read_file('/etc/hostname')", []string{denied}, false},
		{"large object import", "SELECT lo_import('/etc/hostname')", []string{denied, readOnly}, false},
		{"secret data", "SELECT key FROM secret.api_keys", []string{denied}, false},
	}
}

// TestWritesAreRefusedByTheDatabase runs every write attempt twice: with
// the friendly statement check (the courtesy) and without it, where the
// database alone must refuse. Either way the caller sees a refusal, the
// database's error is only the internal cause, and nothing changes.
func TestWritesAreRefusedByTheDatabase(t *testing.T) {
	c := needPG(t)
	ctx := context.Background()
	// A superuser session the reader will try to terminate.
	victim, err := c.super.Acquire(ctx)
	require.NoError(t, err)
	defer victim.Release()
	var victimPID int
	require.NoError(t, victim.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&victimPID))
	marker := filepath.Join(t.TempDir(), "pwned")
	before := c.fingerprint(t)

	for _, checks := range []bool{true, false} {
		h := newHarness(t, func(cfg *config) { cfg.precheck = checks })
		for _, w := range writeAttempts(victimPID, marker) {
			t.Run(fmt.Sprintf("precheck=%v/%s", checks, w.name), func(t *testing.T) {
				res := h.call(t, "query", map[string]any{"sql": w.sql})
				require.True(t, res.IsError, "%q must be refused; got %s", w.sql, mcpkittest.Text(res))
				msg := mcpkittest.Text(res)
				assert.True(t, strings.HasPrefix(msg, "refused: "), "a refusal says so: %q", msg)
				rec := h.rec.last(t)
				assert.Equal(t, mcpkit.OutcomeToolError, rec.outcome)
				var pe *pgconn.PgError
				if checks && w.friendly {
					assert.False(t, errors.As(rec.err, &pe), "the statement check answered before the database: %v", rec.err)
					return
				}
				require.True(t, errors.As(rec.err, &pe), "the cause is the database's error, got %v", rec.err)
				assert.Contains(t, w.codes, pe.Code, "%q: %s", w.sql, pe.Message)
				assert.NotContains(t, msg, pe.Message, "the database's message stays in the audit record")
			})
		}
		// The explain tool refuses the same way.
		res := h.call(t, "explain_query", map[string]any{"sql": "WITH gone AS (DELETE FROM shop.orders RETURNING *) SELECT * FROM gone"})
		assert.True(t, res.IsError)
		assert.True(t, strings.HasPrefix(mcpkittest.Text(res), "refused: "), mcpkittest.Text(res))
	}

	assert.Equal(t, before, c.fingerprint(t), "nothing changed in the database")
	_, err = os.Stat(marker)
	assert.True(t, os.IsNotExist(err), "COPY TO PROGRAM did not run")
	var one int
	require.NoError(t, victim.QueryRow(ctx, "SELECT 1").Scan(&one), "the superuser session survived pg_terminate_backend")
}

// TestRefusalMessages pins the exact client-facing messages of the three
// database refusals the issue names, with the statement check off.
func TestRefusalMessages(t *testing.T) {
	h := newHarness(t, func(cfg *config) { cfg.precheck = false })
	for sql, want := range map[string]string{
		"DELETE FROM shop.orders":                                  msgReadOnly,
		"SELECT 1; DELETE FROM shop.orders":                        msgMultiple,
		"SET ROLE postgres":                                        msgPermission,
		"SELECT * FROM secret.api_keys":                            msgPermission,
		"SELECT set_config('transaction_read_only', 'off', false)": msgTransaction,
	} {
		res := h.call(t, "query", map[string]any{"sql": sql})
		assert.True(t, res.IsError, sql)
		assert.Equal(t, want, mcpkittest.Text(res), sql)
	}
}

// TestSecretSchemaIsInvisible checks that a schema the role was not granted
// is neither listed, described nor readable.
func TestSecretSchemaIsInvisible(t *testing.T) {
	h := newHarness(t, nil)
	var schemas ListSchemasOut
	h.ok(t, "list_schemas", map[string]any{}, &schemas)
	for _, s := range schemas.Schemas {
		assert.NotEqual(t, "secret", s.Name)
	}
	for _, call := range []struct {
		tool string
		args map[string]any
	}{
		{"list_tables", map[string]any{"schema": "secret"}},
		{"describe_table", map[string]any{"schema": "secret", "table": "api_keys"}},
		{"query", map[string]any{"sql": "SELECT * FROM secret.api_keys"}},
		{"query", map[string]any{"sql": "TABLE secret.api_keys"}},
		{"explain_query", map[string]any{"sql": "SELECT * FROM secret.api_keys"}},
	} {
		res := h.call(t, call.tool, call.args)
		assert.True(t, res.IsError, "%s %v", call.tool, call.args)
		assert.NotContains(t, mcpkittest.Text(res), "sk-live")
	}
}
