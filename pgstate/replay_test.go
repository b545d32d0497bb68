package pgstate

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/internal/pgtest"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// migrated returns a superuser pool on a fresh, migrated database.
func migrated(t testing.TB) *pgxpool.Pool {
	t.Helper()
	db := newDB(t)
	require.NoError(t, Migrate(context.Background(), db, ""))
	return db
}

// replica returns another pool on db's database: another replica.
func replica(t testing.TB, db *pgxpool.Pool) *pgxpool.Pool {
	t.Helper()
	p, err := pgxpool.NewWithConfig(context.Background(), db.Config().Copy())
	require.NoError(t, err)
	t.Cleanup(p.Close)
	return p
}

func newReplay(t testing.TB, db *pgxpool.Pool, opts ...ReplayOption) *ReplayCache {
	t.Helper()
	c, err := NewReplayCache(db, opts...)
	require.NoError(t, err)
	return c
}

func TestReplayCacheConforms(t *testing.T) {
	db := migrated(t)
	mcpkittest.TestReplayCache(t, func(testing.TB) approval.ReplayCache { return newReplay(t, db) })
}

// A state used on one replica is refused on every other, and of 32
// concurrent uses spread over four replicas exactly one is fresh.
func TestReplayStateAcceptedOnceFleetWide(t *testing.T) {
	db := migrated(t)
	ctx := context.Background()
	caches := []*ReplayCache{newReplay(t, db)}
	for range 3 {
		caches = append(caches, newReplay(t, replica(t, db)))
	}
	until := time.Now().Add(time.Hour)
	fresh, err := caches[0].Use(ctx, "nonce-1", until)
	require.NoError(t, err)
	require.True(t, fresh)
	for i, c := range caches {
		fresh, err := c.Use(ctx, "nonce-1", until)
		require.NoError(t, err)
		assert.False(t, fresh, "replica %d accepted a state already used on replica 0", i)
	}
	for round := range 5 {
		id := "race-" + pgtest.Password()
		var wins, errs atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range 32 {
			wg.Go(func() {
				<-start
				ok, err := caches[i%len(caches)].Use(ctx, id, until)
				if err != nil {
					errs.Add(1)
				}
				if ok {
					wins.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		require.EqualValues(t, 1, wins.Load(), "round %d: %d of 32 uses across 4 replicas were fresh (%d errors)", round, wins.Load(), errs.Load())
	}
}

// Ids that look like SQL are data: stored and refused on replay like any
// other, the table intact. Empty and oversized ids are refused.
func TestReplayHostileIDs(t *testing.T) {
	db := migrated(t)
	c := newReplay(t, db)
	ctx := context.Background()
	until := time.Now().Add(time.Hour)
	for _, id := range []string{
		"x'); DROP TABLE mcpkit.approval_states; --",
		`"; DELETE FROM mcpkit.approval_states WHERE ''='`,
		"\x00\xff not utf8? ",
		"a1.k1.forged.mac",
		strings.Repeat("9", 256),
	} {
		fresh, err := c.Use(ctx, id, until)
		if strings.ContainsRune(id, 0) {
			// PostgreSQL text cannot hold NUL: refused, not accepted.
			assert.False(t, fresh)
			assert.Error(t, err)
			continue
		}
		require.NoError(t, err, "%q", id)
		assert.True(t, fresh, "%q", id)
		fresh, err = c.Use(ctx, id, until)
		require.NoError(t, err)
		assert.False(t, fresh, "%q replayed", id)
	}
	var n int
	require.NoError(t, db.QueryRow(ctx, "SELECT count(*) FROM mcpkit.approval_states").Scan(&n))
	assert.Equal(t, 4, n, "the table holds exactly the four ids used")
	for _, id := range []string{"", strings.Repeat("x", 257)} {
		fresh, err := c.Use(ctx, id, until)
		assert.False(t, fresh)
		assert.ErrorContains(t, err, "replay id is 1 to 256 bytes")
	}
}

// Expired ids are deleted in bounded batches, after the skew allowance;
// live ones stay used.
func TestReplayCleanup(t *testing.T) {
	db := migrated(t)
	ctx := context.Background()
	c := newReplay(t, db, WithCleanupBatch(3))
	long := time.Now().Add(-SkewAllowance - time.Minute)
	for i := range 5 {
		_, err := c.Use(ctx, "old-"+string(rune('a'+i)), long)
		require.NoError(t, err)
	}
	_, err := c.Use(ctx, "in-allowance", time.Now().Add(-time.Second))
	require.NoError(t, err)
	_, err = c.Use(ctx, "live", time.Now().Add(time.Hour))
	require.NoError(t, err)
	n, err := c.Cleanup(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, 3, n, "one cleanup deletes at most the batch")
	n, err = c.Cleanup(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, 2, n)
	n, err = c.Cleanup(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, 0, n, "ids within the skew allowance and live ids are kept")
	for _, id := range []string{"in-allowance", "live"} {
		fresh, err := c.Use(ctx, id, time.Now().Add(time.Hour))
		require.NoError(t, err)
		assert.False(t, fresh, "%s was forgotten early", id)
	}

	// On use: the first Use after the interval cleans up.
	c = newReplay(t, db, WithCleanupInterval(50*time.Millisecond))
	_, err = c.Use(ctx, "old-again", long)
	require.NoError(t, err)
	time.Sleep(60 * time.Millisecond)
	_, err = c.Use(ctx, "trigger", time.Now().Add(time.Hour))
	require.NoError(t, err)
	var left int
	require.NoError(t, db.QueryRow(ctx, "SELECT count(*) FROM mcpkit.approval_states WHERE expires < now() - interval '1 minute'").Scan(&left))
	assert.Zero(t, left, "a Use after the cleanup interval deletes expired ids")
}

func TestReplayCacheOptionErrors(t *testing.T) {
	db := newDB(t)
	_, err := NewReplayCache(nil)
	assert.ErrorContains(t, err, "needs a pool")
	_, err = NewReplayCache(db, WithReplaySchema("x;drop"), WithCleanupInterval(0), WithCleanupBatch(-1))
	assert.ErrorContains(t, err, "WithReplaySchema")
	assert.ErrorContains(t, err, "WithCleanupInterval(0s)")
	assert.ErrorContains(t, err, "WithCleanupBatch(-1)")
}

// A schema that was never migrated refuses states instead of accepting
// them.
func TestReplayUnmigratedRefuses(t *testing.T) {
	c := newReplay(t, newDB(t))
	fresh, err := c.Use(context.Background(), "n", time.Now().Add(time.Hour))
	assert.False(t, fresh)
	var re *ReplayError
	require.ErrorAs(t, err, &re)
	assert.ErrorContains(t, re.Cause, "SQLSTATE 42P01", "undefined table")
}

// With PostgreSQL down every state is refused with a message a caller may
// read; once it is back, the pool reconnects and states are accepted.
func TestReplayOutageFailsClosed(t *testing.T) {
	db := migrated(t)
	c := newReplay(t, db)
	ctx := context.Background()
	cluster := stopPG(t, db)
	short, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	fresh, err := c.Use(short, "during-outage", time.Now().Add(time.Hour))
	assert.False(t, fresh, "a state was accepted while the replay cache was down")
	var re *ReplayError
	require.ErrorAs(t, err, &re)
	assert.Contains(t, err.Error(), "approval states are refused")
	assert.NotContains(t, err.Error(), "127.0.0.1", "the caller-facing text names no address")

	require.NoError(t, cluster.Start(ctx))
	var last error
	ok := assert.Eventually(t, func() bool {
		fresh, err := c.Use(ctx, "after-outage-"+pgtest.Password(), time.Now().Add(time.Hour))
		last = errors.Unwrap(err)
		return err == nil && fresh
	}, 10*time.Second, 100*time.Millisecond)
	require.True(t, ok, "last error: %v", last)
	fresh, err = c.Use(ctx, "during-outage", time.Now().Add(time.Hour))
	require.NoError(t, err)
	assert.True(t, fresh, "a state refused during the outage was never recorded as used")
}

// stopPG stops the shared cluster (started again at the end of the test).
// It checkpoints first: the test cluster commits asynchronously, and an
// immediate stop would lose the last commits (the schema just migrated).
func stopPG(t testing.TB, db *pgxpool.Pool) *pgtest.Cluster {
	t.Helper()
	ctx := context.Background()
	_, err := db.Exec(ctx, "CHECKPOINT")
	require.NoError(t, err)
	cluster := pg.Get(t)
	require.NoError(t, cluster.Stop(ctx))
	t.Cleanup(func() { _ = cluster.Start(context.Background()) })
	return cluster
}
