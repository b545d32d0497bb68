package pgstate

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// With PostgreSQL stopped, approvals fail closed: a call that needs the
// console is refused (its request cannot be recorded) and a decision is
// answered 503, never applied. When PostgreSQL is back the pools and the
// listener reconnect, and a decision made on another replica reaches the
// waiting call again.
func TestFleetOutageFailsClosedAndRecovers(t *testing.T) {
	db := migrated(t)
	ctx := context.Background()
	var runs atomic.Int32
	a := newFleetReplica(t, "a", db, &runs, 3*time.Second)
	b := newFleetReplica(t, "b", db, &runs, time.Minute)
	// A call waiting when the database goes away.
	waiting, waitingDone := a.call(t, "carol")

	cluster := stopPG(t, db)
	cs := mcpkittest.NewHarness(t, a.mcp, mcpkittest.WithClientInfo("carol", "1")).Session
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "delete_item", Arguments: map[string]any{"id": "y"}})
	require.NoError(t, err)
	assert.True(t, res.IsError)
	assert.Contains(t, mcpkittest.Text(res), "could not record the request")

	code, body := b.decide(t, "tok-bob", waiting.ID, "approve", `{}`)
	assert.Equal(t, http.StatusServiceUnavailable, code, body)
	r := wait(t, waitingDone)
	assert.True(t, r.res.IsError, "the call waiting during the outage ran")
	assert.Zero(t, runs.Load())

	require.NoError(t, cluster.Start(ctx))
	// The listener is back.
	require.Eventually(t, func() bool {
		var n int
		return db.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1`, ListenerName).Scan(&n) == nil && n >= 2
	}, 15*time.Second, 100*time.Millisecond, "the listeners did not reconnect")
	require.Eventually(t, func() bool {
		_, errA := a.store.List(ctx)
		_, errB := b.store.List(ctx)
		return errA == nil && errB == nil
	}, 15*time.Second, 100*time.Millisecond, "the pools did not reconnect")
	p, done := a.call(t, "carol")
	code, body = b.decide(t, "tok-bob", p.ID, "approve", `{}`)
	require.Equal(t, http.StatusOK, code, body)
	r = wait(t, done)
	assert.False(t, r.res.IsError, mcpkittest.Text(r.res))
	assert.EqualValues(t, 1, runs.Load())
}
