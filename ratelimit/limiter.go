package ratelimit

import (
	"context"
	"fmt"
	"time"
)

// Limit is a token bucket: Events per Per on average, at most Burst at
// once. The zero Burst means Events (a caller that was quiet may spend a
// whole period's allowance at once, never more).
type Limit struct {
	Events int
	Per    time.Duration
	Burst  int
}

// burst is the bucket size.
func (l Limit) burst() int {
	if l.Burst > 0 {
		return l.Burst
	}
	return l.Events
}

// perSecond is the refill rate.
func (l Limit) perSecond() float64 { return float64(l.Events) / l.Per.Seconds() }

// valid reports whether l can be enforced.
func (l Limit) valid() error {
	switch {
	case l.Events <= 0:
		return fmt.Errorf("events %d must be positive", l.Events)
	case l.Per <= 0:
		return fmt.Errorf("period %v must be positive", l.Per)
	case l.Burst < 0:
		return fmt.Errorf("burst %d must not be negative", l.Burst)
	}
	return nil
}

// String is the limit in spec form: "20/s", "2/m", "5/10s".
func (l Limit) String() string {
	unit := l.Per.String()
	switch l.Per {
	case time.Second:
		unit = "s"
	case time.Minute:
		unit = "m"
	case time.Hour:
		unit = "h"
	}
	s := fmt.Sprintf("%d/%s", l.Events, unit)
	if l.Burst > 0 && l.Burst != l.Events {
		s += fmt.Sprintf("+%d", l.Burst)
	}
	return s
}

// Decision is a limiter's answer for one call.
type Decision struct {
	// Allowed is true when the call may go ahead; it was counted.
	Allowed bool
	// RetryAfter is, when refused, how long until one call would be
	// allowed (the caller's own later calls permitting).
	RetryAfter time.Duration
}

// Limiter counts calls per key. Allow takes one event from key's bucket
// under limit, or refuses without taking anything. A limiter shared across
// replicas (a database, Redis) implements the same interface; an error
// means it could not decide, and the gate refuses the call (fail closed).
// Implementations must be safe for concurrent use; the same key is always
// passed with the same limit.
type Limiter interface {
	Allow(ctx context.Context, key string, limit Limit) (Decision, error)
}

// Func adapts a function to Limiter.
type Func func(ctx context.Context, key string, limit Limit) (Decision, error)

// Allow calls f.
func (f Func) Allow(ctx context.Context, key string, limit Limit) (Decision, error) {
	return f(ctx, key, limit)
}
