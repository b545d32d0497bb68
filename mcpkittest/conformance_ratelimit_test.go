package mcpkittest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/ratelimit"
)

func newMemoryLimiter(t testing.TB) ratelimit.Limiter {
	m, err := ratelimit.NewMemory()
	require.NoError(t, err)
	return m
}

func TestMemoryLimiterConforms(t *testing.T) {
	TestLimiter(t, newMemoryLimiter)
}

func TestTestLimiterFailsBrokenLimiters(t *testing.T) {
	for _, tc := range []struct {
		name    string
		limiter func() ratelimit.Limiter
		fails   []string
	}{
		{"always allows", func() ratelimit.Limiter {
			return ratelimit.Func(func(context.Context, string, ratelimit.Limit) (ratelimit.Decision, error) {
				return ratelimit.Decision{Allowed: true}, nil
			})
		}, []string{"the burst is allowed, then calls are refused", "a refusal says when to retry", "32 concurrent callers of one key get the burst, no more"}},
		{"one key for all", func() ratelimit.Limiter {
			m := newMemoryLimiter(t)
			return ratelimit.Func(func(ctx context.Context, _ string, l ratelimit.Limit) (ratelimit.Decision, error) {
				return m.Allow(ctx, "the-only-key", l)
			})
		}, []string{"keys are independent"}},
		{"charges refusals", func() ratelimit.Limiter {
			var mu sync.Mutex
			debt := map[string]time.Duration{}
			m := newMemoryLimiter(t)
			return ratelimit.Func(func(ctx context.Context, key string, l ratelimit.Limit) (ratelimit.Decision, error) {
				d, err := m.Allow(ctx, key, l)
				if err == nil && !d.Allowed {
					mu.Lock()
					debt[key] += l.Per / time.Duration(l.Events)
					d.RetryAfter += debt[key]
					mu.Unlock()
				}
				return d, err
			})
		}, []string{"a refusal takes nothing"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := runConform(limiterChecks(), func(testing.TB) ratelimit.Limiter { return tc.limiter() })
			for _, name := range tc.fails {
				assert.Contains(t, got, name, "the broken limiter passed %q", name)
			}
		})
	}
}
