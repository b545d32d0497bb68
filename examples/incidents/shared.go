package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mcpkit-go/mcpkit/pgstate"
	"github.com/mcpkit-go/mcpkit/serve"
)

// connectTimeout bounds the start-up connection and migration: a replica
// that cannot reach its database fails to start instead of hanging.
const connectTimeout = 15 * time.Second

// sharedState connects a replica to the fleet's PostgreSQL
// (-shared-state URL or $INCIDENTS_SHARED_STATE), checks or migrates the
// pgstate schema, and shares the single-use approval states, the
// console's pending requests and decisions, and the rate limits. See
// "Running N replicas" in RUNBOOK.md.
func sharedState(ctx context.Context, p serve.SharedStateParams) (serve.Shared, error) {
	cfg, err := pgxpool.ParseConfig(p.URL)
	if err != nil {
		// pgx's message may quote the URL: keep it out.
		return serve.Shared{}, errors.New("the URL is not a PostgreSQL connection string (postgres://user@host:5432/db?sslmode=verify-full, or key=value pairs)")
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "incidents/" + p.Instance
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(context.WithoutCancel(ctx), cfg)
	if err != nil {
		return serve.Shared{}, err
	}
	sh := serve.Shared{Close: pool.Close}
	if err := pool.Ping(ctx); err != nil {
		// pgx names the user, host, port and database: not in logs.
		return sh, fmt.Errorf("connect: %w", pgstate.SafeError(err))
	}
	if err := schema(ctx, pool); err != nil {
		return sh, err
	}
	if sh.Replay, err = pgstate.NewReplayCache(pool); err != nil {
		return sh, err
	}
	if sh.Limiter, err = pgstate.NewLimiter(pool); err != nil {
		return sh, err
	}
	// The store renews its requests' leases and listens for decisions
	// until Close, not until the start-up deadline.
	store, err := pgstate.NewStore(context.WithoutCancel(ctx), pool, pgstate.WithInstance(p.Instance), pgstate.WithStoreLogger(p.Logger))
	if err != nil {
		return sh, err
	}
	sh.Store = store
	sh.Close = func() { store.Close(); pool.Close() }
	return sh, nil
}

// schema makes sure the pgstate schema is current. A least-privilege
// replica role (pgstate's role.sql) can only check it; a role that owns
// the database migrates it (safe from every replica at once: the first
// applies, the others wait and find nothing to do).
func schema(ctx context.Context, pool *pgxpool.Pool) error {
	checked := pgstate.Check(ctx, pool, pgstate.DefaultSchema)
	if checked == nil {
		return nil
	}
	if err := pgstate.Migrate(ctx, pool, pgstate.DefaultSchema); err != nil {
		return fmt.Errorf("%w; and this role cannot migrate it: %w", checked, err)
	}
	return nil
}
