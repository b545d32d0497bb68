package ratelimit_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
	"github.com/mcpkit-go/mcpkit/ratelimit"
)

// flaky is a shared limiter that can be taken down: while down every
// Allow fails, as a store that cannot be reached; asked counts the
// attempts.
type flaky struct {
	inner ratelimit.Limiter
	down  atomic.Bool
	asked atomic.Int64
}

func (f *flaky) Allow(ctx context.Context, key string, l ratelimit.Limit) (ratelimit.Decision, error) {
	f.asked.Add(1)
	if f.down.Load() {
		return ratelimit.Decision{}, errors.New("dial tcp 10.0.0.7:5432: connection refused")
	}
	return f.inner.Allow(ctx, key, l)
}

// logBuffer is a slog sink safe for concurrent writes.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *logBuffer) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.b.String(), s)
}

// The store goes away mid-run: read-only calls go on under 1/replicas of
// their limit, decided locally; destructive calls are refused without
// running; one warning per outage; when the store answers again it decides
// again.
func TestFallbackKeepsReadOnlyGoingAndRefusesDestructiveWhileTheLimiterFails(t *testing.T) {
	c := newClock()
	shared := &flaky{inner: newMemory(t, c)}
	logs := &logBuffer{}
	s := newServer(t, shared, "read_only=6/m,destructive=2/m",
		ratelimit.WithFallback(3, mcpkit.ReadOnly), ratelimit.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	ratelimit.SetGateClock(s.gate, c.now)
	h := s.connect(t, alice)
	require.False(t, h.MustCall("list_things", map[string]any{"id": "x"}).IsError)

	shared.down.Store(true)
	ranBefore := s.ran.Load()
	for range 3 {
		res := h.MustCall("delete_thing", map[string]any{"id": "x"})
		require.True(t, res.IsError)
		require.NotContains(t, mcpkittest.Text(res), "10.0.0.7", "the cause stays on the server")
	}
	require.Equal(t, ranBefore, s.ran.Load(), "no destructive call ran while the shared limit could not be decided")

	// 6/m shared by 3 replicas: a burst of 2 here, then one every 30 s.
	var allowed int
	for range 10 {
		if !h.MustCall("list_things", map[string]any{"id": "x"}).IsError {
			allowed++
		}
	}
	require.Equal(t, 2, allowed, "read-only calls go on, under this replica's share of the limit")
	res := h.MustCall("list_things", map[string]any{"id": "x"})
	require.Contains(t, mcpkittest.Text(res), "retry in 30 seconds", "a local refusal says when to retry, at the local rate")
	require.Equal(t, int64(1), shared.asked.Load()-1, "the store is asked once, then left alone until the probe interval passes")
	require.Equal(t, 1, logs.count("rate limiter failed"), "one warning per outage")

	c.advance(30 * time.Second)
	shared.down.Store(false)
	require.False(t, h.MustCall("delete_thing", map[string]any{"id": "x"}).IsError, "decided by the store again")
	require.Equal(t, 1, logs.count("rate limiter answers again"))
	out := s.outcomes(t, "alice")
	require.Equal(t, 3, out["unavailable"], "the refused destructive calls are on the record as unavailable")
	require.Equal(t, 9, out["denied_rate"])
}

// Without WithFallback the gate still fails closed for every class.
func TestWithoutFallbackEveryClassFailsClosed(t *testing.T) {
	shared := &flaky{inner: newMemory(t, newClock())}
	shared.down.Store(true)
	s := newServer(t, shared, "read_only=6/m")
	require.True(t, s.connect(t, alice).MustCall("list_things", map[string]any{"id": "x"}).IsError)
	require.Zero(t, s.ran.Load())
}

func TestWithFallbackRefusesInvalidInput(t *testing.T) {
	m, err := ratelimit.NewMemory()
	require.NoError(t, err)
	rules, err := ratelimit.ParseRules("read_only=1/s")
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		opts []ratelimit.Option
		want string
	}{
		{"no replicas", []ratelimit.Option{ratelimit.WithFallback(0, mcpkit.ReadOnly)}, "WithFallback: replicas 0 must be at least 1"},
		{"no classes", []ratelimit.Option{ratelimit.WithFallback(3)}, "name the risk classes"},
		{"bad class", []ratelimit.Option{ratelimit.WithFallback(3, mcpkit.Risk(9))}, "risk class 9"},
		{"twice", []ratelimit.Option{ratelimit.WithFallback(3, mcpkit.ReadOnly), ratelimit.WithFallback(2, mcpkit.ReadOnly)}, "given twice"},
		{"nil logger", []ratelimit.Option{ratelimit.WithFallback(3, mcpkit.ReadOnly), ratelimit.WithLogger(nil)}, "WithLogger: the logger is nil"},
		{"logger alone", []ratelimit.Option{ratelimit.WithLogger(slog.Default())}, "WithLogger without WithFallback"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ratelimit.NewGate(m, rules, tc.opts...)
			require.ErrorContains(t, err, tc.want)
		})
	}
}
