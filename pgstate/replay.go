package pgstate

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mcpkit-go/mcpkit/approval"
)

// ReplayCache is an approval.ReplayCache in PostgreSQL: a state's nonce is
// a primary key, so of all the replicas that see one state exactly one
// inserts it and accepts it. Used ids are kept until their time plus
// SkewAllowance, then deleted in bounded batches by the Use that finds the
// cleanup interval elapsed (or by Cleanup).
type ReplayCache struct {
	pool     *pgxpool.Pool
	insert   string
	cleanup  string
	batch    int
	interval time.Duration

	mu   sync.Mutex
	next time.Time // the earliest time of the next on-use cleanup
}

// SkewAllowance is how long past its time a used id is still kept: clocks
// of replicas and database may disagree by this much without a state
// becoming usable again before it expired.
const SkewAllowance = time.Minute

// Replay cache defaults.
const (
	DefaultCleanupInterval = time.Minute
	DefaultCleanupBatch    = 1000
)

// maxReplayID bounds an id: states' nonces are 32 hex digits.
const maxReplayID = 256

// ReplayOption configures NewReplayCache.
type ReplayOption func(*replayConfig)

type replayConfig struct {
	schema   string
	interval time.Duration
	batch    int
	errs     []error
}

// WithReplaySchema names the schema Migrate created (DefaultSchema if not
// given).
func WithReplaySchema(name string) ReplayOption {
	return func(c *replayConfig) { c.schema = name }
}

// WithCleanupInterval sets how often a Use also deletes expired ids
// (DefaultCleanupInterval). It must be positive.
func WithCleanupInterval(d time.Duration) ReplayOption {
	return func(c *replayConfig) {
		if d <= 0 {
			c.errs = append(c.errs, fmt.Errorf("pgstate: WithCleanupInterval(%v): want a positive interval", d))
		}
		c.interval = d
	}
}

// WithCleanupBatch bounds how many expired ids one cleanup deletes
// (DefaultCleanupBatch), so that a backlog never stalls a Use. It must be
// positive.
func WithCleanupBatch(n int) ReplayOption {
	return func(c *replayConfig) {
		if n <= 0 {
			c.errs = append(c.errs, fmt.Errorf("pgstate: WithCleanupBatch(%d): want a positive batch size", n))
		}
		c.batch = n
	}
}

// NewReplayCache returns the replay cache over pool. The schema must have
// been migrated (Migrate).
func NewReplayCache(pool *pgxpool.Pool, opts ...ReplayOption) (*ReplayCache, error) {
	if pool == nil {
		return nil, errors.New("pgstate: NewReplayCache needs a pool")
	}
	cfg := replayConfig{schema: DefaultSchema, interval: DefaultCleanupInterval, batch: DefaultCleanupBatch}
	for _, o := range opts {
		o(&cfg)
	}
	if !schemaName.MatchString(cfg.schema) {
		cfg.errs = append(cfg.errs, fmt.Errorf("pgstate: WithReplaySchema(%q): want a name matching %s", cfg.schema, schemaName))
	}
	if err := errors.Join(cfg.errs...); err != nil {
		return nil, err
	}
	return &ReplayCache{
		pool:     pool,
		batch:    cfg.batch,
		interval: cfg.interval,
		insert:   fmt.Sprintf("INSERT INTO %s.approval_states (id, expires) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING", cfg.schema),
		cleanup: fmt.Sprintf(`DELETE FROM %[1]s.approval_states WHERE id IN (
  SELECT id FROM %[1]s.approval_states WHERE expires < now() - make_interval(secs => $1) LIMIT $2 FOR UPDATE SKIP LOCKED)`, cfg.schema),
		next: time.Now().Add(cfg.interval),
	}, nil
}

// ReplayError is why the cache could not tell whether an id was used: the
// state is refused. Its text is safe to show to a caller; the cause (a
// PostgreSQL or network error) is in Unwrap, for the logs.
type ReplayError struct{ Cause error }

func (e *ReplayError) Error() string {
	return "the shared replay cache (PostgreSQL) could not be reached, so approval states are refused until it is back"
}

// Unwrap returns the cause.
func (e *ReplayError) Unwrap() error { return e.Cause }

// Use implements approval.ReplayCache with one INSERT ... ON CONFLICT DO
// NOTHING: the id is fresh when this call inserted it. Every error refuses.
func (c *ReplayCache) Use(ctx context.Context, id string, until time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if id == "" || len(id) > maxReplayID {
		return false, fmt.Errorf("pgstate: a replay id is 1 to %d bytes, got %d", maxReplayID, len(id))
	}
	tag, err := c.pool.Exec(ctx, c.insert, id, until)
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		return false, &ReplayError{Cause: SafeError(err)}
	}
	if c.cleanupDue() {
		// Best effort: a failed cleanup leaves rows for the next one and
		// never refuses a state.
		_, _ = c.Cleanup(ctx)
	}
	return tag.RowsAffected() == 1, nil
}

// cleanupDue reports, to one caller per interval, that a cleanup is due.
func (c *ReplayCache) cleanupDue() bool {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Before(c.next) {
		return false
	}
	c.next = now.Add(c.interval)
	return true
}

// Cleanup deletes up to the batch size of ids whose time (plus
// SkewAllowance) has passed and returns how many it deleted. Replicas may
// run it at once: each deletes rows the others have not locked.
func (c *ReplayCache) Cleanup(ctx context.Context) (int64, error) {
	tag, err := c.pool.Exec(ctx, c.cleanup, SkewAllowance.Seconds(), c.batch)
	if err != nil {
		return 0, fmt.Errorf("pgstate: replay cache cleanup: %w", SafeError(err))
	}
	return tag.RowsAffected(), nil
}

var _ approval.ReplayCache = (*ReplayCache)(nil)
