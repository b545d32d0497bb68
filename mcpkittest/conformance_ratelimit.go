package mcpkittest

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpkit-go/mcpkit/ratelimit"
)

// TestLimiter checks a ratelimit.Limiter (a shared store on PostgreSQL or
// Redis, say) against the contract ratelimit.Gate relies on: a bucket of
// Burst events per key, refilled at Events/Per; a refusal says how long to
// wait and takes nothing; keys are independent; 32 concurrent callers of
// one key never get more than the burst. It runs on real time (a shared
// backend has its own clock), sleeping at most about 100 ms. newLimiter
// returns a limiter under test; keys are random, so it may return views of
// one backend.
func TestLimiter(t testing.TB, newLimiter func(t testing.TB) ratelimit.Limiter) {
	t.Helper()
	conform(runnerFor(t), limiterChecks(), newLimiter)
}

func limiterChecks() []conformCheck[func(testing.TB) ratelimit.Limiter] {
	hourly := ratelimit.Limit{Events: 3, Per: time.Hour}
	allow := func(t testing.TB, l ratelimit.Limiter, key string, lim ratelimit.Limit) ratelimit.Decision {
		t.Helper()
		d, err := l.Allow(context.Background(), key, lim)
		if err != nil {
			t.Fatalf("Allow(%q, %s): %v", key, lim, err)
		}
		return d
	}
	return []conformCheck[func(testing.TB) ratelimit.Limiter]{
		{"the burst is allowed, then calls are refused", func(t testing.TB, newL func(testing.TB) ratelimit.Limiter) {
			l, key := newL(t), randomID("limit-")
			for i := range hourly.Events {
				if !allow(t, l, key, hourly).Allowed {
					t.Fatalf("call %d of a burst of %d was refused", i+1, hourly.Events)
				}
			}
			if allow(t, l, key, hourly).Allowed {
				t.Fatalf("call %d under %s was allowed", hourly.Events+1, hourly)
			}
		}},
		{"a refusal says when to retry", func(t testing.TB, newL func(testing.TB) ratelimit.Limiter) {
			l, key := newL(t), randomID("limit-")
			for range hourly.Events {
				allow(t, l, key, hourly)
			}
			d := allow(t, l, key, hourly)
			// One event comes back every Per/Events: 20 minutes.
			want := hourly.Per / time.Duration(hourly.Events)
			if d.Allowed || d.RetryAfter < want-time.Minute || d.RetryAfter > want+time.Second {
				t.Fatalf("refusal under %s: Allowed %v, RetryAfter %v; want a refusal with RetryAfter about %v", hourly, d.Allowed, d.RetryAfter, want)
			}
		}},
		{"a refusal takes nothing", func(t testing.TB, newL func(testing.TB) ratelimit.Limiter) {
			l, key := newL(t), randomID("limit-")
			for range hourly.Events {
				allow(t, l, key, hourly)
			}
			first := allow(t, l, key, hourly)
			for range 5 {
				allow(t, l, key, hourly)
			}
			if last := allow(t, l, key, hourly); last.RetryAfter > first.RetryAfter {
				t.Fatalf("RetryAfter grew from %v to %v over refused calls: refusals were charged", first.RetryAfter, last.RetryAfter)
			}
		}},
		{"the bucket refills", func(t testing.TB, newL func(testing.TB) ratelimit.Limiter) {
			l, key := newL(t), randomID("limit-")
			fast := ratelimit.Limit{Events: 20, Per: time.Second, Burst: 1}
			allow(t, l, key, fast)
			d := allow(t, l, key, fast)
			if d.Allowed || d.RetryAfter <= 0 || d.RetryAfter > 100*time.Millisecond {
				t.Fatalf("second call under %s: Allowed %v, RetryAfter %v; want refused with RetryAfter in (0, 50ms]", fast, d.Allowed, d.RetryAfter)
			}
			time.Sleep(d.RetryAfter + 5*time.Millisecond)
			if !allow(t, l, key, fast).Allowed {
				t.Fatalf("refused after waiting the RetryAfter it was told (%v)", d.RetryAfter)
			}
		}},
		{"keys are independent", func(t testing.TB, newL func(testing.TB) ratelimit.Limiter) {
			l, a, b := newL(t), randomID("limit-"), randomID("limit-")
			for range hourly.Events + 1 {
				allow(t, l, a, hourly)
			}
			if !allow(t, l, b, hourly).Allowed {
				t.Fatal("a fresh key was refused because another key is over its limit")
			}
		}},
		{"32 concurrent callers of one key get the burst, no more", func(t testing.TB, newL func(testing.TB) ratelimit.Limiter) {
			l, key := newL(t), randomID("limit-")
			lim := ratelimit.Limit{Events: 10, Per: time.Hour}
			var allowed atomic.Int64
			together(concurrency, func(int) {
				for range 3 {
					if d, err := l.Allow(context.Background(), key, lim); err == nil && d.Allowed {
						allowed.Add(1)
					}
				}
			})
			if n := allowed.Load(); n != int64(lim.Events) {
				t.Fatalf("%d of %d concurrent calls were allowed under %s; want exactly %d", n, 3*concurrency, lim, lim.Events)
			}
		}},
	}
}
