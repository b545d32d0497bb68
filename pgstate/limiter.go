package pgstate

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mcpkit-go/mcpkit/ratelimit"
)

// Limiter is a ratelimit.Limiter shared by every replica on one
// PostgreSQL database: the same token bucket as ratelimit.Memory (Burst
// events at once, refilled at Events per Per), decided in one statement
// per call on the database's clock.
//
// It stores a bucket as its theoretical arrival time (GCRA): tat is when
// the bucket would be full again, each allowed call pushes it Per/Events
// later, and a call is allowed while tat is at most (Burst-1)*Per/Events
// ahead of now. One INSERT ... ON CONFLICT DO UPDATE ... WHERE takes the
// key's row lock, so calls from any number of pools and replicas are
// decided one after another, and a refused call writes nothing.
//
// Keys are stored as their SHA-256: any bytes (the gate's keys hold a NUL,
// which PostgreSQL text cannot), any length, one fixed-size row each, and
// no subject can choose a key that lands in another's bucket. A row whose
// bucket is full again decides nothing a missing row would not, so it is
// deleted: the Allow that finds the cleanup interval elapsed deletes up to
// a batch of them.
//
// A refusal is remembered in this process until the wait it gave has
// passed (no replica could be allowed sooner: tat only moves forward), so
// a caller hammering a key it exhausted costs one round trip per refill
// interval per replica, not one per call, and does not queue on the row
// lock that other calls of the key need.
type Limiter struct {
	pool    *pgxpool.Pool
	timeout time.Duration
	decide  string
	cleanup string
	batch   int
	every   time.Duration

	refused refusals

	mu   sync.Mutex
	next time.Time // the earliest time of the next cleanup
}

var _ ratelimit.Limiter = (*Limiter)(nil)

// Limiter defaults.
const (
	// DefaultLimiterTimeout bounds one decision: a database that does not
	// answer within it is an error (the gate's fallback, if any, decides).
	DefaultLimiterTimeout = time.Second
	// DefaultLimiterCleanupInterval is how often an Allow also deletes
	// rows of full buckets.
	DefaultLimiterCleanupInterval = time.Minute
	// DefaultLimiterCleanupBatch bounds the rows one cleanup deletes.
	DefaultLimiterCleanupBatch = 1000
)

// LimiterOption configures NewLimiter.
type LimiterOption func(*limiterConfig)

type limiterConfig struct {
	schema  string
	timeout time.Duration
	every   time.Duration
	batch   int
	errs    []error
}

// WithLimiterSchema names the schema Migrate created (DefaultSchema if not
// given).
func WithLimiterSchema(name string) LimiterOption {
	return func(c *limiterConfig) { c.schema = name }
}

// WithLimiterTimeout bounds one decision (DefaultLimiterTimeout); a slower
// database is an error, so that a caller is not held up by a database that
// hangs. It must be positive.
func WithLimiterTimeout(d time.Duration) LimiterOption {
	return func(c *limiterConfig) {
		if d <= 0 {
			c.errs = append(c.errs, fmt.Errorf("pgstate: WithLimiterTimeout(%v): want a positive timeout", d))
		}
		c.timeout = d
	}
}

// WithLimiterCleanup sets how often an Allow also deletes the rows of full
// buckets (DefaultLimiterCleanupInterval) and how many at most
// (DefaultLimiterCleanupBatch), so that a backlog never stalls a call.
// Both must be positive.
func WithLimiterCleanup(every time.Duration, batch int) LimiterOption {
	return func(c *limiterConfig) {
		if every <= 0 || batch <= 0 {
			c.errs = append(c.errs, fmt.Errorf("pgstate: WithLimiterCleanup(%v, %d): want a positive interval and batch", every, batch))
		}
		c.every, c.batch = every, batch
	}
}

// NewLimiter returns the shared limiter over pool. The schema must have
// been migrated (Migrate).
func NewLimiter(pool *pgxpool.Pool, opts ...LimiterOption) (*Limiter, error) {
	cfg := limiterConfig{schema: DefaultSchema, timeout: DefaultLimiterTimeout,
		every: DefaultLimiterCleanupInterval, batch: DefaultLimiterCleanupBatch}
	for _, o := range opts {
		o(&cfg)
	}
	if pool == nil {
		cfg.errs = append(cfg.errs, errors.New("pgstate: NewLimiter needs a pool"))
	}
	if !schemaName.MatchString(cfg.schema) {
		cfg.errs = append(cfg.errs, fmt.Errorf("pgstate: WithLimiterSchema(%q): want a name matching %s", cfg.schema, schemaName))
	}
	if err := errors.Join(cfg.errs...); err != nil {
		return nil, err
	}
	return &Limiter{
		pool:    pool,
		timeout: cfg.timeout,
		batch:   cfg.batch,
		every:   cfg.every,
		next:    time.Now().Add(cfg.every),
		// $1 key, $2 the emission interval T = Per/Events and $3 the
		// tolerance (Burst-1)*T, both in microseconds. A new key is
		// allowed (tat = now + T); an existing one when tat - now is
		// within the tolerance (tat = max(tat, now) + T). A refusal
		// returns the current tat, from which the wait follows.
		decide: fmt.Sprintf(`WITH up AS (
  INSERT INTO %[1]s.rate_limits AS b (key, tat) VALUES ($1, now() + $2::float8 * interval '1 microsecond')
  ON CONFLICT (key) DO UPDATE SET tat = greatest(b.tat, now()) + $2::float8 * interval '1 microsecond'
    WHERE b.tat - now() <= $3::float8 * interval '1 microsecond'
  RETURNING 1
)
SELECT true, 0::float8 FROM up
UNION ALL
SELECT false, extract(epoch FROM tat - now())::float8 FROM %[1]s.rate_limits
  WHERE key = $1 AND NOT EXISTS (SELECT 1 FROM up)`, cfg.schema),
		cleanup: fmt.Sprintf(`DELETE FROM %[1]s.rate_limits WHERE key IN (
  SELECT key FROM %[1]s.rate_limits WHERE tat < now() LIMIT $1 FOR UPDATE SKIP LOCKED) AND tat < now()`, cfg.schema),
	}, nil
}

// LimiterError is why the shared limiter could not decide (the database
// is unreachable, slow or refused the statement). The gate refuses the
// call as unavailable, or decides it locally with ratelimit.WithFallback.
type LimiterError struct{ Cause error }

func (e *LimiterError) Error() string {
	return "the shared rate limiter (PostgreSQL) could not decide: " + e.Cause.Error()
}

// Unwrap returns the cause.
func (e *LimiterError) Unwrap() error { return e.Cause }

// Allow implements ratelimit.Limiter in one round trip.
func (l *Limiter) Allow(ctx context.Context, key string, limit ratelimit.Limit) (ratelimit.Decision, error) {
	if err := ctx.Err(); err != nil {
		return ratelimit.Decision{}, err
	}
	if limit.Events <= 0 || limit.Per <= 0 || limit.Burst < 0 {
		return ratelimit.Decision{}, fmt.Errorf("pgstate: limit %s: events and period must be positive, burst not negative", limit)
	}
	burst := limit.Burst
	if burst == 0 {
		burst = limit.Events
	}
	// T rounded up to the microsecond the database counts in: never more
	// than the limit.
	t := (limit.Per.Nanoseconds()/int64(limit.Events) + 999) / 1000
	t = max(t, 1)
	tolerance := int64(burst-1) * t
	sum := sha256.Sum256([]byte(key))
	if wait, ok := l.refused.get(sum, time.Now()); ok {
		return ratelimit.Decision{RetryAfter: wait}, nil
	}

	qctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	var allowed bool
	var ahead float64
	err := l.pool.QueryRow(qctx, l.decide, sum[:], t, tolerance).Scan(&allowed, &ahead)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		// Refused, but the row committed after this statement's snapshot
		// (its first calls raced this one): one interval is a safe wait.
		return ratelimit.Decision{RetryAfter: time.Duration(t) * time.Microsecond}, nil
	case err != nil:
		if ctx.Err() != nil {
			return ratelimit.Decision{}, ctx.Err()
		}
		return ratelimit.Decision{}, &LimiterError{Cause: SafeError(err)}
	}
	if l.cleanupDue() {
		// Best effort: a failed cleanup leaves rows for the next one and
		// changes no decision.
		_, _ = l.Cleanup(ctx)
	}
	if allowed {
		return ratelimit.Decision{Allowed: true}, nil
	}
	wait := max(time.Duration(ahead*float64(time.Second))-time.Duration(tolerance)*time.Microsecond, time.Millisecond)
	now := time.Now()
	l.refused.put(sum, now.Add(wait), now)
	return ratelimit.Decision{RetryAfter: wait}, nil
}

// cleanupDue reports, to one caller per interval, that a cleanup is due.
func (l *Limiter) cleanupDue() bool {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Before(l.next) {
		return false
	}
	l.next = now.Add(l.every)
	return true
}

// Cleanup deletes up to the batch size of rows whose bucket is full again
// and returns how many it deleted. Replicas may run it at once: each
// deletes rows the others have not locked.
func (l *Limiter) Cleanup(ctx context.Context) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	tag, err := l.pool.Exec(ctx, l.cleanup, l.batch)
	if err != nil {
		return 0, fmt.Errorf("pgstate: rate limiter cleanup: %w", SafeError(err))
	}
	return tag.RowsAffected(), nil
}
