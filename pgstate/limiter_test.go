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

	"github.com/mcpkit-go/mcpkit/mcpkittest"
	"github.com/mcpkit-go/mcpkit/ratelimit"
)

// warm opens all of pool's connections, as a replica that has been
// serving has them.
func warm(t testing.TB, pool *pgxpool.Pool) {
	t.Helper()
	var conns []*pgxpool.Conn
	for range pool.Config().MaxConns {
		c, err := pool.Acquire(context.Background())
		require.NoError(t, err)
		conns = append(conns, c)
	}
	for _, c := range conns {
		c.Release()
	}
}

func newLimiter(t testing.TB, db *pgxpool.Pool, opts ...LimiterOption) *Limiter {
	t.Helper()
	l, err := NewLimiter(db, opts...)
	require.NoError(t, err)
	return l
}

func TestLimiterConforms(t *testing.T) {
	db := migrated(t)
	mcpkittest.TestLimiter(t, func(t testing.TB) ratelimit.Limiter { return newLimiter(t, db) })
}

// The attack: one caller hammers one key from three replicas (three pools,
// eight goroutines each) for three seconds. Together they get the burst
// plus the rate times the time from their first to their last allowed
// call, within 10%, and never more; no decision fails. Meanwhile another caller, five calls a second on the
// same replicas, is never refused nor slowed into an error: the hammering
// does not take the pool's connections.
func TestLimiterHoldsOneLimitAcrossThreeReplicas(t *testing.T) {
	db := migrated(t)
	limit := ratelimit.Limit{Events: 50, Per: time.Second, Burst: 10}
	const run = 3 * time.Second
	var limiters []*Limiter
	for r := range 3 {
		pool := db
		if r > 0 {
			pool = replica(t, db)
		}
		warm(t, pool)
		limiters = append(limiters, newLimiter(t, pool))
	}
	var allowed, refused, failed atomic.Int64
	var firstErr atomic.Value
	// first and last are when the first and the last allowed call
	// returned: the window the shared bucket was drawn on (a late start or
	// a slow finish on a busy machine is not the limiter's doing).
	var mu sync.Mutex
	var first, last time.Time
	start := time.Now()
	deadline := start.Add(run)
	var wg sync.WaitGroup
	var aliceRefused, aliceFailed atomic.Int64
	var other sync.WaitGroup
	other.Go(func() {
		for i := 0; time.Now().Before(deadline); i++ {
			d, err := limiters[i%3].Allow(context.Background(), "class:read_only\x00alice", limit)
			switch {
			case err != nil:
				aliceFailed.Add(1)
			case !d.Allowed:
				aliceRefused.Add(1)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
	for _, l := range limiters {
		for range 8 {
			wg.Go(func() {
				for time.Now().Before(deadline) {
					d, err := l.Allow(context.Background(), "class:read_only\x00mallory", limit)
					switch {
					case err != nil:
						failed.Add(1)
						firstErr.CompareAndSwap(nil, err)
					case d.Allowed:
						allowed.Add(1)
						now := time.Now()
						mu.Lock()
						if first.IsZero() {
							first = now
						}
						last = now
						mu.Unlock()
					default:
						refused.Add(1)
					}
				}
			})
		}
	}
	wg.Wait()
	elapsed := last.Sub(first)
	other.Wait()
	require.Zero(t, failed.Load(), "decisions failed: %v", firstErr.Load())
	require.Zero(t, aliceFailed.Load(), "another caller's decisions failed while mallory hammered")
	require.Zero(t, aliceRefused.Load(), "another caller was refused: mallory's calls counted against her")
	want := float64(limit.Burst) + float64(limit.Events)*elapsed.Seconds()
	got := float64(allowed.Load())
	t.Logf("%v: %d allowed, %d refused (%.0f decisions/s); the limit allows %.0f", elapsed.Round(time.Millisecond),
		allowed.Load(), refused.Load(), float64(allowed.Load()+refused.Load())/elapsed.Seconds(), want)
	require.Greater(t, refused.Load(), allowed.Load(), "the load exceeded the limit (else the test shows nothing)")
	assert.LessOrEqual(t, got, want*1.10, "three replicas together granted more than the shared limit")
	assert.GreaterOrEqual(t, got, want*0.90, "the shared limit granted much less than it allows")
}

// Keys are bytes the caller may choose (a token's subject): SQL
// metacharacters, NUL, a megabyte, or the text of another key's hash all
// work, and each key has a bucket of its own.
func TestLimiterKeysAreSafeAndSeparate(t *testing.T) {
	db := migrated(t)
	l := newLimiter(t, db)
	ctx := context.Background()
	one := ratelimit.Limit{Events: 1, Per: time.Hour}
	long := "class:read_only\x00" + strings.Repeat("a", 1<<20)
	keys := []string{
		"class:read_only\x00alice",
		"class:read_only\x00alice'); DELETE FROM mcpkit.rate_limits; --",
		"class:read_only\x00alice\x00",
		"class:read_only\x00\\x00alice",
		long,
		long + "b",
		"class:read_only\x00" + strings.Repeat("a", 1<<20-1) + "b",
		"",
	}
	for _, k := range keys {
		d, err := l.Allow(ctx, k, one)
		require.NoError(t, err, "key of %d bytes", len(k))
		require.True(t, d.Allowed, "key %.40q was refused: it shares a bucket with an earlier key", k)
	}
	for _, k := range keys {
		d, err := l.Allow(ctx, k, one)
		require.NoError(t, err)
		require.False(t, d.Allowed, "key %.40q was allowed twice under 1/h", k)
	}
	var rows int
	require.NoError(t, db.QueryRow(ctx, "SELECT count(*) FROM mcpkit.rate_limits").Scan(&rows))
	require.Equal(t, len(keys), rows, "one fixed-size row per key, none deleted by a key's text")
}

// A refused call writes nothing: hammering a full bucket leaves its row as
// it was.
func TestLimiterRefusalWritesNothing(t *testing.T) {
	db := migrated(t)
	l := newLimiter(t, db)
	ctx := context.Background()
	one := ratelimit.Limit{Events: 1, Per: time.Hour}
	_, err := l.Allow(ctx, "k", one)
	require.NoError(t, err)
	var before, after string
	require.NoError(t, db.QueryRow(ctx, "SELECT xmin::text || tat::text FROM mcpkit.rate_limits").Scan(&before))
	for range 20 {
		d, err := l.Allow(ctx, "k", one)
		require.NoError(t, err)
		require.False(t, d.Allowed)
		require.InDelta(t, time.Hour.Seconds(), d.RetryAfter.Seconds(), 5)
	}
	require.NoError(t, db.QueryRow(ctx, "SELECT xmin::text || tat::text FROM mcpkit.rate_limits").Scan(&after))
	require.Equal(t, before, after, "a refusal rewrote the bucket")
}

// Cleanup deletes only rows whose bucket is full again (a missing row
// decides the same), at most a batch at a time.
func TestLimiterCleanupForgetsOnlyFullBuckets(t *testing.T) {
	db := migrated(t)
	l := newLimiter(t, db, WithLimiterCleanup(time.Hour, 2))
	ctx := context.Background()
	fast := ratelimit.Limit{Events: 1000, Per: time.Second, Burst: 1}
	slow := ratelimit.Limit{Events: 1, Per: time.Hour}
	for _, k := range []string{"f1", "f2", "f3"} {
		_, err := l.Allow(ctx, k, fast)
		require.NoError(t, err)
	}
	_, err := l.Allow(ctx, "busy", slow)
	require.NoError(t, err)
	time.Sleep(20 * time.Millisecond)
	n, err := l.Cleanup(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 2, n, "one batch")
	n, err = l.Cleanup(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	n, err = l.Cleanup(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "the busy bucket is kept")
	d, err := l.Allow(ctx, "busy", slow)
	require.NoError(t, err)
	require.False(t, d.Allowed, "the busy caller's count survived cleanup")
}

func TestNewLimiterRefusesBadOptions(t *testing.T) {
	db := migrated(t)
	for _, tc := range []struct {
		name string
		opts []LimiterOption
		want string
	}{
		{"schema", []LimiterOption{WithLimiterSchema("x; DROP")}, `WithLimiterSchema("x; DROP")`},
		{"timeout", []LimiterOption{WithLimiterTimeout(0)}, "WithLimiterTimeout(0s)"},
		{"cleanup", []LimiterOption{WithLimiterCleanup(time.Minute, 0)}, "WithLimiterCleanup(1m0s, 0)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewLimiter(db, tc.opts...)
			require.ErrorContains(t, err, tc.want)
		})
	}
	_, err := NewLimiter(nil)
	require.ErrorContains(t, err, "needs a pool")
	l := newLimiter(t, db)
	_, err = l.Allow(context.Background(), "k", ratelimit.Limit{Events: 0, Per: time.Second})
	require.ErrorContains(t, err, "must be positive")
}

// A database that is not migrated is an error naming the cause, not a
// decision.
func TestLimiterWithoutMigrationIsAnError(t *testing.T) {
	db := newDB(t)
	l := newLimiter(t, db)
	_, err := l.Allow(context.Background(), "k", ratelimit.Limit{Events: 1, Per: time.Second})
	var le *LimiterError
	require.True(t, errors.As(err, &le), "%v", err)
	require.ErrorContains(t, err, "SQLSTATE 42P01", "undefined table")
}
