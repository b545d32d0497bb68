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
//
// # The console's requests and decisions
//
// Store is the approval.DecisionStore of a fleet: every replica's console
// lists every replica's pending requests, and a reviewer decides through
// any of them; the decision reaches the replica whose call waits.
//
//	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL")) // migrated as above
//	if err != nil {
//		return err
//	}
//	store, err := pgstate.NewStore(ctx, pool, pgstate.WithInstance("replica-1")) // runs until Close
//	if err != nil {
//		return err
//	}
//	defer store.Close()
//	fleetKeys, err := approval.ParseKeys(os.Getenv("APPROVAL_KEYS")) // the same on every replica
//	if err != nil {
//		return err
//	}
//	keyring, err := approval.NewKeyring(fleetKeys...)
//	if err != nil {
//		return err
//	}
//	console, err := approval.NewConsole(ctx, approval.ConsoleConfig{
//		Authenticate: authenticate,
//		Reviewers:    approval.ReviewerRule{Scopes: []string{"incidents:approve"}},
//		OnReview:     approval.AuditReviews(auditor, impl),
//		Store:        store,
//		Keys:         keyring, // seals requests and decisions: the database is no authority
//	})
//
// A row of <schema>.approval_requests is one request (as json, the
// arguments as reviewers see them), its owner (the instance of the replica
// whose call waits) and a lease the owner renews every third of WithLease
// (default 6 s, renewed every 2 s) while the call waits. Decide locks the row (SELECT ... FOR
// UPDATE), refuses it when already decided (approval.ErrDecided) or when
// the lease ran out (approval.ErrNotWaiting), runs the console's checks
// (approver rules, four eyes, the deadline) and audit record against the
// stored request, then stores the decision with a conditional UPDATE
// (still undecided, lease still alive) and a pg_notify to the owner in
// the same transaction. Two reviewers deciding at once on two replicas:
// the second waits for the row, then finds it decided (409, audited). The
// owner LISTENs on NotifyChannel on a connection of its own
// (application_name ListenerName) and, whatever the notifications, reads
// the decisions of its waiting requests every WithPollInterval (default
// 1 s), so a lost notification or listener delays a decision by at most a
// poll; the listener reconnects and catches up. WithoutNotify polls only
// (for a pooler that does not carry LISTEN).
//
// The owner acknowledges: its waiting call takes a decision by deleting
// the row that holds it (DELETE ... WHERE decision IS NOT NULL
// RETURNING). After Decide the deciding replica's console calls
// Store.Confirm, which reads the row every 50 ms for up to
// WithDeliveryTimeout (default 3 s; more than the poll interval, at most
// 5 s): once the row is gone the reviewer gets 200 "approved; the waiting
// call received it". If it is still there, Confirm withdraws the decision
// with one conditional UPDATE (decision still set; it clears the decision
// and ends the lease): that UPDATE and the owner's DELETE race for the
// row lock and exactly one wins, so a withdrawn decision is never applied
// later. The reviewer then gets 409 "the waiting call did not take the
// decision: its server may have stopped; nothing ran", and a second review
// record (outcome not_waiting, status 409, that error) follows the
// approval's. This closes the lease window: a replica that died a moment
// ago still looks alive, but no reviewer is told it approved a call that
// never runs. A replica that is alive but slow renews the lease, so its
// request comes back to the list and can be decided again.
//
// When the call's wait ends the owner deletes the row (DELETE ...
// RETURNING, after any Decide holding it, so a decision taken in time is
// kept and none is taken later); a decision for it is then a 404, audited.
// A replica that dies leaves its rows: until their lease runs out a
// decision is withdrawn as above (409); after it List stops showing them,
// a decision is a 409 ("no call waits"), audited, never applied; they are deleted ten minutes later. Every request carries the
// full approval.Request, so a pending approval can later become a durable
// task that outlives a restart; the lease and owner would then pass to the
// replica that resumes it.
//
// The database is storage, not an authority: give every replica's console
// the fleet's approval keys (ConsoleConfig.Keys; serve requires
// $<PREFIX>_APPROVAL_KEYS with a shared console store). The owner seals
// each request it adds (HMAC over everything reviewers see and rules
// read: id, tool, arguments, summary, principal, tool scopes, times); a
// console lists and decides only requests whose seal verifies (any key in
// the ring), reporting others as review_tampered; it seals its decision
// with the request's digest and the reviewer's identity; the owner lets
// the call run only if that seal verifies, the digest is that of the
// request it holds in memory, and the reviewer passes the approver rules
// and four eyes again ("the decision failed verification" otherwise, a
// denial on the call's record). Threat model: whoever holds the
// replicas' database login but not the keys can delete or stall rows
// (a denial, a denial of service) and read pending requests (arguments
// redacted as in the audit file), but can neither approve a call, nor
// change what a reviewer approves, nor replay one request's decision on
// another. Whoever holds the keys too is a replica.
//
// BenchmarkStoreDecision measured one approval across two replicas (add,
// decide on the other, delivered, withdrawn) at about 5.5 ms, 180/s, on
// two shared cores with PostgreSQL on the same machine.
//
// # Failure modes
//
// Everything fails closed. With PostgreSQL unreachable: ReplayCache.Use
// refuses every in-client approval state; Store.Add fails, so a call that
// needs the console is refused ("could not record the request"); Decide
// fails (503 to the reviewer, nothing applied); a waiting call receives
// nothing and ends at its deadline; leases are not renewed, so requests
// of that time are not decidable later once their lease ran out. When the
// database is back the pool reconnects by itself, the listener connects
// again, and approvals work again. A decision is delivered at most once
// (Decide's row lock); one that was recorded by the console but whose
// commit failed is answered 503 and audited as not applied. If the
// database fails while Confirm waits and it cannot withdraw the decision,
// the reviewer gets 503 saying delivery is not known (audited): the
// call's own audit record tells whether it ran. Background
// failures (polling, lease renewal, the listener) are logged once per
// outage (WithStoreLogger).
//
// Errors name no connection details. pgx's connect and network errors
// embed the database user, host, port and database name, which would
// reach the logs and the audit records' error field (and from there the
// observability stack): reconnaissance for whoever reads them. Every
// error the replay cache, Store (its logs included), Limiter, Migrate and
// Check return passes through SafeError, which keeps only the category
// ("could not connect to PostgreSQL: PostgreSQL refused the connection",
// "PostgreSQL did not answer in time", "the connection to PostgreSQL was
// lost", or "SQLSTATE 42P01 (class 42)" for an error PostgreSQL returned,
// whose message is dropped too since it may quote a role or database).
// errors.Is still finds context.Canceled and context.DeadlineExceeded,
// and errors.As a *pgconn.PgError carrying only severity and code. Code
// that connects the pool at start-up wraps its own Ping error with it,
// as examples/incidents does.
//
// # A least-privilege role
//
// Replicas need rows, not DDL. An admin creates and migrates the schema
// (Migrate, as the schema owner, at deploy time) and grants the replicas'
// role what role.sql lists (Grants returns it for a schema and role):
// USAGE on the schema, SELECT on schema_migrations, and SELECT, INSERT,
// UPDATE and DELETE on the package's tables. No CREATE, ALTER, DROP or
// TRUNCATE. Such a replica cannot run Migrate; it calls Check at start-up,
// which only reads schema_migrations and says which migrations are
// missing. LISTEN and pg_notify need no grant.
//
//	admin, err := pgxpool.New(ctx, os.Getenv("ADMIN_DATABASE_URL")) // the schema owner, at deploy time
//	if err != nil {
//		return err
//	}
//	if err := pgstate.Migrate(ctx, admin, pgstate.DefaultSchema); err != nil {
//		return err
//	}
//	grants, err := pgstate.Grants(pgstate.DefaultSchema, "mcpkit_replica")
//	if err != nil {
//		return err
//	}
//	if _, err := admin.Exec(ctx, grants); err != nil {
//		return err
//	}
//	// In each replica, connected as mcpkit_replica:
//	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
//	if err != nil {
//		return err
//	}
//	if err := pgstate.Check(ctx, pool, pgstate.DefaultSchema); err != nil {
//		return err
//	}
//
// # Shared rate limits
//
// Limiter is the ratelimit.Limiter of a fleet: one limit of N per period
// per caller, however the load balancer spreads the calls. It keeps
// exactly ratelimit.Memory's token bucket (Burst at once, refilled at
// Events per Per) as a theoretical arrival time per key in
// <schema>.rate_limits (GCRA) and decides a call in one statement, an
// INSERT ... ON CONFLICT DO UPDATE ... WHERE on the key's row, on the
// database's clock: replicas' clocks play no part, and the row lock orders
// the calls of every pool. Three replicas hammering one key under 50/s
// (burst 10) for three seconds were granted within one call of what the
// limit allows over that time (156-158 for 155-159 in three runs).
//
//	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL")) // migrated as above
//	if err != nil {
//		return err
//	}
//	limiter, err := pgstate.NewLimiter(pool)
//	if err != nil {
//		return err
//	}
//	rules, err := ratelimit.ParseRules("read_only=20/s,write=5/m,destructive=2/m")
//	if err != nil {
//		return err
//	}
//	gate, err := ratelimit.NewGate(limiter, rules,
//		ratelimit.WithFallback(3, mcpkit.ReadOnly)) // 3 replicas; reads go on without PostgreSQL
//
// Keys are stored as their SHA-256 (any bytes, any length, and no caller
// can pick a key that lands in another's bucket) and passed as parameters
// only. A refusal writes nothing, and is remembered in the replica until
// the wait it announced has passed (no replica could be allowed sooner),
// so a caller hammering an exhausted key costs about one round trip per
// refill interval per replica, not one per call, and does not queue on
// the row lock. A row whose bucket is full again decides nothing a missing
// row would not: the first Allow after each cleanup interval deletes up to
// a batch of them (WithLimiterCleanup, default every minute, 1000 rows),
// and Cleanup does it on demand. WithLimiterSchema names the schema;
// WithLimiterTimeout (default 1 s) bounds one decision.
//
// When PostgreSQL is down or slower than the timeout, Allow returns a
// *LimiterError and the gate refuses the call as unavailable (fail
// closed), unless ratelimit.WithFallback names the call's risk class: then
// it is decided in the replica's memory at 1/replicas of the limit, so the
// fleet together still grants at most the limit's rate with a burst of at
// most max(Burst, replicas), plus up to one burst per caller when the
// outage begins (the local buckets start full). The gate asks PostgreSQL
// again once a second and decides with it as soon as it answers; the pool
// reconnects by itself. The recommended policy, WithFallback(replicas,
// mcpkit.ReadOnly), keeps reads going and refuses writes and destructive
// calls until the shared limit is back.
//
// PostgreSQL rather than Redis, by measurement (go test -run '^$' -bench
// Limiter ./pgstate/; two shared, busy cores, the server on the same
// machine, runs varying by 2-3x with the load): PostgreSQL 15 decided
// 1,900-9,300 calls/s from one caller, 3,300-5,300/s from one replica's
// pool over 1000 callers and 3,200-5,100/s all on one key. The same GCRA
// as a Lua script in Redis 7.0 (go-redis v9.23.0, run alongside) decided
// 3,300-11,900/s serially and 7,900-22,700/s in parallel: two to four
// times more in parallel. Either is far above the tool calls a fleet
// serves, each of which does real work, and hammering is answered from
// the refusal memory without a round trip; the fleet already needs PostgreSQL for approvals,
// so Redis would add a store to run, secure and lose for no decision a
// tool call needs. A Limiter on Redis plugs in as a ratelimit.Limiter
// should a fleet need more.
package pgstate
