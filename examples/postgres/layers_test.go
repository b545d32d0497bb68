package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// TestRoleAloneRefusesWrites is layer 1 without the server: a session as
// the setup.sql role, outside any read-only transaction of ours, still
// cannot write, even after turning its read-only default off.
func TestRoleAloneRefusesWrites(t *testing.T) {
	c := needPG(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.readerURL())
	require.NoError(t, err)
	defer conn.Close(ctx)
	before := c.fingerprint(t)

	var ro, timeout string
	require.NoError(t, conn.QueryRow(ctx, "SELECT current_setting('default_transaction_read_only'), current_setting('statement_timeout')").Scan(&ro, &timeout))
	assert.Equal(t, "on", ro, "setup.sql makes every session read-only by default")
	assert.Equal(t, "5s", timeout, "setup.sql sets a statement timeout")
	var limit int
	require.NoError(t, conn.QueryRow(ctx, "SELECT rolconnlimit FROM pg_roles WHERE rolname = current_user").Scan(&limit))
	assert.Equal(t, 20, limit)

	_, err = conn.Exec(ctx, "DELETE FROM shop.orders")
	assert.Equal(t, "25006", pgCode(err), "read-only by default: %v", err)

	_, err = conn.Exec(ctx, "SET default_transaction_read_only = off")
	require.NoError(t, err, "a session may lift its own default; privileges are what remain")
	for _, sql := range []string{
		"DELETE FROM shop.orders",
		"UPDATE shop.customers SET name = 'x'",
		"INSERT INTO shop.customers (name) VALUES ('mallory')",
		"DROP TABLE shop.orders",
		"CREATE TABLE public.scratch (x int)",
		"CREATE TABLE shop.scratch (x int)",
		"SELECT * FROM secret.api_keys",
		"CREATE SCHEMA mine",
	} {
		_, err := conn.Exec(ctx, sql)
		assert.Equal(t, "42501", pgCode(err), "%s: %v", sql, err)
	}
	assert.Equal(t, before, c.fingerprint(t))
}

// TestReadOnlyTransactionAloneRefusesWrites is layer 2 without layers 1
// and 3: the server connected as a role that MAY write, with the statement
// check off. BEGIN READ ONLY alone refuses every write, and the server warns
// at start-up that the role is not least-privilege.
func TestReadOnlyTransactionAloneRefusesWrites(t *testing.T) {
	c := needPG(t)
	ctx := context.Background()
	const writer = "mcp_writer"
	_, err := c.super.Exec(ctx, fmt.Sprintf(`CREATE ROLE %[1]s LOGIN PASSWORD '%[2]s';
		GRANT USAGE, CREATE ON SCHEMA shop TO %[1]s;
		GRANT ALL ON ALL TABLES IN SCHEMA shop TO %[1]s;
		GRANT ALL ON ALL SEQUENCES IN SCHEMA shop TO %[1]s`, writer, c.password))
	require.NoError(t, err)
	t.Cleanup(func() {
		_, err := c.super.Exec(context.Background(), "DROP OWNED BY "+writer+"; DROP ROLE "+writer)
		assert.NoError(t, err)
	})
	before := c.fingerprint(t)

	u, _ := url.Parse(c.readerURL())
	u.User = url.UserPassword(writer, c.password)
	h := newHarnessURL(t, u.String(), func(cfg *config) { cfg.precheck = false })
	assert.Contains(t, h.logs(), "the database role can write to some tables")

	for _, sql := range []string{
		"DELETE FROM shop.orders",
		"UPDATE shop.customers SET name = 'x'",
		"INSERT INTO shop.customers (name) VALUES ('mallory')",
		"TRUNCATE shop.orders",
		"CREATE TABLE shop.scratch (x int)",
		"WITH gone AS (DELETE FROM shop.orders RETURNING *) SELECT count(*) FROM gone",
		"SELECT * FROM shop.orders FOR UPDATE",
		"SELECT nextval('shop.orders_id_seq')",
		"SELECT * INTO shop.orders_copy FROM shop.orders",
	} {
		res := h.call(t, "query", map[string]any{"sql": sql})
		assert.Equal(t, msgReadOnly, mcpkittest.Text(res), sql)
		assert.Equal(t, "25006", pgCode(h.rec.last(t).err), sql)
	}
	res := h.call(t, "query", map[string]any{"sql": "SELECT 1; DELETE FROM shop.orders"})
	assert.Equal(t, msgMultiple, mcpkittest.Text(res), "the extended protocol refuses a second statement")
	assert.Equal(t, before, c.fingerprint(t))
}

// TestSessionStateDoesNotOutliveACall checks the state a rollback keeps:
// a session-level advisory lock taken by a query is released when the call
// ends, so an agent cannot block another application's lock (migration
// tools use them) through a pooled connection.
func TestSessionStateDoesNotOutliveACall(t *testing.T) {
	c := needPG(t)
	h := newHarness(t, func(cfg *config) { cfg.maxConns = 1; cfg.precheck = false })
	var out QueryOut
	h.ok(t, "query", map[string]any{"sql": "SELECT pg_advisory_lock(4242)"}, &out)
	var got bool
	require.NoError(t, c.super.QueryRow(context.Background(), "SELECT pg_try_advisory_lock(4242)").Scan(&got))
	assert.True(t, got, "the reader's lock was released with its call")
	_, err := c.super.Exec(context.Background(), "SELECT pg_advisory_unlock_all()")
	require.NoError(t, err)

	res := h.call(t, "query", map[string]any{"sql": "PREPARE sneaky AS SELECT 1"})
	require.False(t, res.IsError, mcpkittest.Text(res))
	res = h.call(t, "query", map[string]any{"sql": "EXECUTE sneaky"})
	assert.Contains(t, mcpkittest.Text(res), `prepared statement "sneaky" does not exist`)
}
