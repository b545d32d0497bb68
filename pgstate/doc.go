// Package pgstate keeps the state a fleet of mcpkit replicas must share in
// PostgreSQL: the single-use approval states, the console's pending
// requests and decisions, and shared rate limits.
//
// It is its own module so that only servers that run a fleet link pgx.
//
// # Schema
//
// Migrate creates the package's tables in a schema of their own (default
// "mcpkit"). Migrations are embedded, numbered, applied in order inside one
// transaction under an advisory lock, and recorded in
// <schema>.schema_migrations, so running Migrate from every replica at
// start-up is safe: the first applies, the others find nothing to do. A
// database that holds a migration this build does not know is refused (an
// older binary must not run against a newer schema).
//
// # Single-use approval states
//
// ReplayCache is the approval.ReplayCache of a fleet. With in-client
// approval on protocol 2026-07-28 the client's second round (the answer
// and the signed state) may reach any replica; the state's nonce is the
// primary key of <schema>.approval_states, and Use is one INSERT ... ON
// CONFLICT DO NOTHING, so exactly one replica accepts a state, however
// many receive it at once. Every replica must verify the states of the
// others: configure the same approval keys on all of them
// (approval.ParseKeys; serve reads $<PREFIX>_APPROVAL_KEYS):
//
//	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
//	if err != nil {
//		return err
//	}
//	if err := pgstate.Migrate(ctx, pool, pgstate.DefaultSchema); err != nil {
//		return err
//	}
//	replay, err := pgstate.NewReplayCache(pool)
//	if err != nil {
//		return err
//	}
//	fleetKeys, err := approval.ParseKeys(os.Getenv("APPROVAL_KEYS")) // the same on every replica
//	if err != nil {
//		return err
//	}
//	keyring, err := approval.NewKeyring(fleetKeys...)
//	if err != nil {
//		return err
//	}
//	inClient, err := approval.Elicit(approval.ElicitConfig{Keys: keyring, Replay: replay})
//
// A used id is kept until its time (the state's expiry plus a minute) and
// SkewAllowance more, for clocks that disagree; then the first Use after
// each cleanup interval (WithCleanupInterval, default a minute) deletes
// up to WithCleanupBatch (default 1000) expired ids, and Cleanup does the
// same on demand. Any error refuses the state: Use returns false and a
// *ReplayError whose text is safe to show the caller (the cause, for the
// logs, is its Unwrap). A replica that cannot reach PostgreSQL refuses
// every in-client approval until it can again; the pool reconnects by
// itself.
//
// Key rotation: keys are listed oldest first and the last one signs.
// Restart the replicas with the new key added last; states signed under
// the previous key still verify everywhere it is listed. Remove the old
// key once its states have expired (DefaultStateTTL). While the restart
// rolls, a state signed with the new key and answered on a replica not
// yet restarted is refused, and its user is simply asked again.
package pgstate
