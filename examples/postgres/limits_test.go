package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// TestRowLimitTruncates checks max_rows, its default, and that a huge
// result past the limit is cut off at the server rather than streamed and
// discarded until the timeout.
func TestRowLimitTruncates(t *testing.T) {
	h := newHarness(t, nil)
	var out QueryOut
	h.ok(t, "query", map[string]any{"sql": "SELECT g FROM generate_series(1, 5000) g", "max_rows": 10}, &out)
	assert.Equal(t, 10, out.RowCount)
	assert.Len(t, out.Rows, 10)
	assert.True(t, out.Truncated)
	assert.Equal(t, "max_rows", out.TruncatedReason)
	assert.Equal(t, []ResultColumn{{"g", "int4"}}, out.Columns)
	assert.JSONEq(t, "[10]", string(out.Rows[9]))

	h.ok(t, "query", map[string]any{"sql": "SELECT g FROM generate_series(1, 5000) g"}, &out)
	assert.Equal(t, defaultMaxRows, out.RowCount, "default row limit")
	assert.True(t, out.Truncated)

	h.ok(t, "query", map[string]any{"sql": "SELECT g FROM generate_series(1, 7) g", "max_rows": 7}, &out)
	assert.Equal(t, 7, out.RowCount)
	assert.False(t, out.Truncated, "exactly max_rows rows is not truncated")

	// Ten billion rows, streamed (a nested loop over two small series):
	// far more than the 5 s statement timeout could deliver. The server is
	// asked to stop once the limit is reached.
	start := time.Now()
	h.ok(t, "query", map[string]any{"sql": "SELECT a * 100000 + b FROM generate_series(0, 99999) a, generate_series(0, 99999) b", "max_rows": 5}, &out)
	assert.Less(t, time.Since(start), 3*time.Second)
	assert.Equal(t, 5, out.RowCount)
	assert.True(t, out.Truncated)

	// The connection is fine afterwards.
	h.ok(t, "query", map[string]any{"sql": "SELECT 42 AS answer"}, &out)
	assert.JSONEq(t, "[42]", string(out.Rows[0]))
	assert.False(t, out.Truncated)
}

// TestSizeLimitTruncates checks the result-size limit in bytes.
func TestSizeLimitTruncates(t *testing.T) {
	h := newHarness(t, func(cfg *config) { cfg.maxResultBytes = 4096 })
	var out QueryOut
	h.ok(t, "query", map[string]any{"sql": "SELECT g, repeat('x', 500) AS filler FROM generate_series(1, 100) g"}, &out)
	assert.True(t, out.Truncated)
	assert.Equal(t, "max_bytes", out.TruncatedReason)
	assert.Equal(t, 8, out.RowCount, "8 rows of 507 bytes fit in 4096, 9 do not")
	rows, err := json.Marshal(out.Rows)
	require.NoError(t, err)
	assert.LessOrEqual(t, len(rows), 4096)

	// A single row over the limit yields no rows, flagged.
	h.ok(t, "query", map[string]any{"sql": "SELECT repeat('y', 10000)"}, &out)
	assert.Equal(t, 0, out.RowCount)
	assert.True(t, out.Truncated)
	assert.Equal(t, "max_bytes", out.TruncatedReason)
}

// TestStatementTimeoutFires checks that a slow statement is cancelled by
// the database at the configured timeout and reported as a refusal.
func TestStatementTimeoutFires(t *testing.T) {
	h := newHarness(t, func(cfg *config) { cfg.statementTimeout = 200 * time.Millisecond })
	start := time.Now()
	res := h.call(t, "query", map[string]any{"sql": "SELECT pg_sleep(10)"})
	elapsed := time.Since(start)
	require.True(t, res.IsError)
	assert.Contains(t, mcpkittest.Text(res), "refused: the statement ran longer than the 200ms statement timeout")
	assert.Less(t, elapsed, 2*time.Second)
	rec := h.rec.last(t)
	assert.Equal(t, mcpkit.OutcomeToolError, rec.outcome)
	assert.Equal(t, "57014", pgCode(rec.err), "the database cancelled it: %v", rec.err)

	// A statement cannot lift its own timeout: SET LOCAL is per call and
	// a session-level SET is rolled back with the call.
	res = h.call(t, "query", map[string]any{"sql": "SET statement_timeout = 0"})
	assert.True(t, res.IsError, "SET is refused by the statement check")
	h2 := newHarness(t, func(cfg *config) {
		cfg.statementTimeout = 200 * time.Millisecond
		cfg.maxConns = 1
		cfg.precheck = false
	})
	res = h2.call(t, "query", map[string]any{"sql": "SET statement_timeout = 0"})
	require.False(t, res.IsError, mcpkittest.Text(res))
	res = h2.call(t, "query", map[string]any{"sql": "SELECT pg_sleep(10)"})
	assert.Contains(t, mcpkittest.Text(res), "statement timeout", "same pooled connection, timeout still applies")

	var out QueryOut
	h.ok(t, "query", map[string]any{"sql": "SELECT pg_sleep(0.01)"}, &out)
	assert.Equal(t, 1, out.RowCount, "fast statements still run")
}
