package ratelimit

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// fallbackProbe is how long after a limiter failure the fallback decides
// without asking the limiter; the next call after it asks again, so a
// store that came back is used within about this long, and a store that
// is down costs one failed attempt per interval rather than one per call.
const fallbackProbe = time.Second

// fallback decides calls of some risk classes in memory while the gate's
// limiter fails, at 1/replicas of each limit.
type fallback struct {
	replicas int
	risks    []mcpkit.Risk
	local    *Memory
	logger   *slog.Logger
	now      func() time.Time

	mu sync.Mutex
	// down is set from the first failure until a call succeeds again;
	// probeAt is when the limiter is next asked.
	down    bool
	probeAt time.Time
	lastErr error
	since   time.Time
}

func newFallback(c *fallbackConfig, logger *slog.Logger) (*fallback, error) {
	local, err := NewMemory()
	if err != nil {
		return nil, err
	}
	return &fallback{replicas: c.replicas, risks: c.risks, local: local, logger: logger, now: time.Now}, nil
}

// allow asks primary, unless it failed less than fallbackProbe ago, and on
// failure decides locally for the fallback's risk classes.
func (f *fallback) allow(ctx context.Context, primary Limiter, key string, limit Limit, risk mcpkit.Risk) (Decision, error) {
	f.mu.Lock()
	skip := f.down && f.now().Before(f.probeAt)
	cause := f.lastErr
	f.mu.Unlock()
	if !skip {
		d, err := primary.Allow(ctx, key, limit)
		if err == nil {
			f.recovered()
			return d, nil
		}
		if ctx.Err() != nil {
			// The caller went away: not the limiter's failure.
			return Decision{}, err
		}
		f.failed(err)
		cause = err
	}
	if !slices.Contains(f.risks, risk) {
		return Decision{}, fmt.Errorf("unavailable, and %s calls are not decided locally: %w", className(risk), cause)
	}
	return f.local.Allow(ctx, key, f.share(limit))
}

// share is one replica's part of limit: the same rate spread over
// replicas (Per times replicas), and the burst divided, at least 1.
func (f *fallback) share(l Limit) Limit {
	return Limit{Events: l.Events, Per: l.Per * time.Duration(f.replicas), Burst: max(1, l.burst()/f.replicas)}
}

func (f *fallback) failed(err error) {
	f.mu.Lock()
	now := f.now()
	first := !f.down
	f.down, f.probeAt, f.lastErr = true, now.Add(fallbackProbe), err
	if first {
		f.since = now
	}
	f.mu.Unlock()
	if first {
		f.logger.Warn("rate limiter failed: deciding calls locally at 1/replicas of each limit until it answers again",
			"error", err, "local_classes", f.classes(), "replicas", f.replicas, "other_classes", "refused as unavailable")
	}
}

func (f *fallback) recovered() {
	f.mu.Lock()
	was, since := f.down, f.since
	f.down, f.lastErr = false, nil
	f.mu.Unlock()
	if was {
		f.logger.Info("rate limiter answers again: local decisions ended", "outage", f.now().Sub(since).Round(time.Millisecond))
	}
}

func (f *fallback) classes() string {
	names := make([]string, len(f.risks))
	for i, r := range f.risks {
		names[i] = className(r)
	}
	return strings.Join(names, ",")
}
