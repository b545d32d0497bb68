package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/ratelimit"
)

// clock is a manual clock for a Memory limiter.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 7, 28, 12, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newMemory(t testing.TB, c *clock, opts ...ratelimit.MemoryOption) *ratelimit.Memory {
	t.Helper()
	m, err := ratelimit.NewMemory(opts...)
	require.NoError(t, err)
	ratelimit.SetClock(m, c.now)
	return m
}

func TestMemoryRetryAfter(t *testing.T) {
	c := newClock()
	m := newMemory(t, c)
	ctx := context.Background()
	two := ratelimit.Limit{Events: 2, Per: time.Minute}
	for i := range 2 {
		d, err := m.Allow(ctx, "k", two)
		require.NoError(t, err)
		require.True(t, d.Allowed, "call %d within the burst", i)
	}
	d, err := m.Allow(ctx, "k", two)
	require.NoError(t, err)
	require.False(t, d.Allowed, "third call in a minute under 2/m")
	// One token comes back every 30 s.
	require.InDelta(t, 30*time.Second, d.RetryAfter, float64(time.Millisecond))

	c.advance(10 * time.Second)
	d, _ = m.Allow(ctx, "k", two)
	require.False(t, d.Allowed)
	require.InDelta(t, 20*time.Second, d.RetryAfter, float64(time.Millisecond), "a refused call takes nothing: the wait only shrinks")

	c.advance(d.RetryAfter)
	d, _ = m.Allow(ctx, "k", two)
	require.True(t, d.Allowed, "allowed once Retry-After has passed")
	d, _ = m.Allow(ctx, "k", two)
	require.False(t, d.Allowed, "and only that one")
}

func TestMemoryKeysAreIndependent(t *testing.T) {
	m := newMemory(t, newClock())
	ctx := context.Background()
	one := ratelimit.Limit{Events: 1, Per: time.Hour}
	d, _ := m.Allow(ctx, "mallory", one)
	require.True(t, d.Allowed)
	d, _ = m.Allow(ctx, "mallory", one)
	require.False(t, d.Allowed)
	d, _ = m.Allow(ctx, "alice", one)
	require.True(t, d.Allowed, "another key has its own bucket")
}

func TestMemoryForgetsRefilledKeys(t *testing.T) {
	c := newClock()
	m := newMemory(t, c)
	ctx := context.Background()
	perSecond := ratelimit.Limit{Events: 10, Per: time.Second}
	for i := range 100 {
		_, err := m.Allow(ctx, fmt.Sprint("caller-", i), perSecond)
		require.NoError(t, err)
	}
	require.Equal(t, 100, m.Len())
	c.advance(2 * time.Second) // every bucket has refilled
	_, err := m.Allow(ctx, "new", perSecond)
	require.NoError(t, err)
	require.Equal(t, 1, m.Len(), "refilled keys are forgotten; only the new one is left")
}

func TestMemoryKeyCapFailsClosed(t *testing.T) {
	c := newClock()
	m := newMemory(t, c, ratelimit.WithMaxKeys(3))
	ctx := context.Background()
	slow := ratelimit.Limit{Events: 1, Per: time.Minute}
	for _, k := range []string{"a", "b", "c"} {
		d, err := m.Allow(ctx, k, slow)
		require.NoError(t, err)
		require.True(t, d.Allowed)
	}
	d, err := m.Allow(ctx, "d", slow)
	require.ErrorIs(t, err, ratelimit.ErrTooManyKeys, "a fourth key is refused, not tracked by forgetting a busy one")
	require.False(t, d.Allowed)
	d, err = m.Allow(ctx, "a", slow)
	require.NoError(t, err)
	require.False(t, d.Allowed, "a tracked key keeps its count at the cap")
	require.Equal(t, 3, m.Len())

	c.advance(time.Minute) // the buckets have refilled: forgettable
	d, err = m.Allow(ctx, "d", slow)
	require.NoError(t, err)
	require.True(t, d.Allowed)
}

func TestMemoryConcurrentCallsDoNotExceedTheLimit(t *testing.T) {
	c := newClock() // frozen: no refill while the goroutines race
	m := newMemory(t, c)
	limit := ratelimit.Limit{Events: 50, Per: time.Hour}
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for range 100 {
				d, err := m.Allow(context.Background(), "shared", limit)
				if err == nil && d.Allowed {
					allowed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	require.Equal(t, int64(50), allowed.Load(), "3200 racing calls, exactly the burst allowed")
}

func TestMemoryRefusesInvalidInput(t *testing.T) {
	_, err := ratelimit.NewMemory(ratelimit.WithMaxKeys(0))
	require.ErrorContains(t, err, "WithMaxKeys(0)")
	m := newMemory(t, newClock())
	_, err = m.Allow(context.Background(), "k", ratelimit.Limit{Events: 0, Per: time.Second})
	require.Error(t, err)
	_, err = m.Allow(context.Background(), "k", ratelimit.Limit{Events: 1})
	require.Error(t, err)
}

func TestFuncAdaptsAFunction(t *testing.T) {
	boom := errors.New("store down")
	var l ratelimit.Limiter = ratelimit.Func(func(context.Context, string, ratelimit.Limit) (ratelimit.Decision, error) {
		return ratelimit.Decision{}, boom
	})
	_, err := l.Allow(context.Background(), "k", ratelimit.Limit{Events: 1, Per: time.Second})
	require.ErrorIs(t, err, boom)
}

func BenchmarkMemoryAllow(b *testing.B) {
	m, err := ratelimit.NewMemory()
	require.NoError(b, err)
	limit := ratelimit.Limit{Events: 1_000_000_000, Per: time.Second}
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprintf("class:read_only\x00user-%d", i)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := m.Allow(ctx, keys[i%len(keys)], limit); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}
