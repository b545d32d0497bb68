package transport

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// refusalLogInterval is how often a refusal of unauthenticated traffic with
// the same status is logged: the first in full, the rest counted into the
// next line. Anyone can cause those refusals as fast as they can send; the
// audit log has its own aggregation (audit.WithRefusalLimits).
const refusalLogInterval = time.Minute

// refusalLog writes the "mcp request refused" lines, at most one per status
// per interval for unauthenticated refusals. The table holds one entry per
// HTTP status, so it stays small.
type refusalLog struct {
	logger *slog.Logger
	mu     sync.Mutex
	last   map[int]*refusalCount
	now    func() time.Time
}

type refusalCount struct {
	at         time.Time
	suppressed int
}

func newRefusalLog(logger *slog.Logger) *refusalLog {
	return &refusalLog{logger: logger, last: map[int]*refusalCount{}, now: time.Now}
}

// log writes one refusal line; authenticated says whether the caller was
// identified (those are always logged: each is someone's).
func (l *refusalLog) log(status int, reason, remote string, authenticated bool) {
	attrs := []slog.Attr{slog.Int("status", status), slog.String("reason", reason), slog.String("remote", remote)}
	if !authenticated {
		l.mu.Lock()
		now := l.now()
		c := l.last[status]
		if c != nil && now.Sub(c.at) < refusalLogInterval {
			c.suppressed++
			l.mu.Unlock()
			return
		}
		suppressed := 0
		if c != nil {
			suppressed = c.suppressed
		}
		l.last[status] = &refusalCount{at: now}
		l.mu.Unlock()
		if suppressed > 0 {
			attrs = append(attrs, slog.Int("suppressed", suppressed))
		}
	}
	l.logger.LogAttrs(context.Background(), slog.LevelInfo, "mcp request refused", attrs...)
}
