package pgstate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mcpkit-go/mcpkit/approval"
)

// Store is the approval console's pending requests and decisions in
// PostgreSQL, shared by the replicas of a fleet: an approval.DecisionStore.
//
// Each request row names its owner (this Store's instance) and a lease the
// owner renews while the call waits. Decide locks the row and takes the
// decision only while it is undecided and its lease alive, so of any
// number of reviewers on any replicas one decides, and a replica that died
// leaves requests nobody can decide once their lease ran out. The owner
// learns of a decision by LISTEN/NOTIFY and, should a notification be
// lost, by polling its waiting requests, and takes it by deleting the row:
// the deciding replica's Confirm waits for that and otherwise withdraws
// the decision.
type Store struct {
	pool     *pgxpool.Pool
	schema   string
	instance string
	lease    time.Duration
	poll     time.Duration
	delivery time.Duration
	notify   bool
	logger   *slog.Logger
	payload  string // the NOTIFY payload that concerns this instance: "schema instance"
	sql      storeSQL

	mu      sync.Mutex
	owned   map[string]bool          // added here and not yet removed: leases renewed
	waiting map[string]chan struct{} // in Await: signalled when decided

	wake   chan struct{}
	cancel context.CancelFunc
	done   sync.WaitGroup
	health health
}

type storeSQL struct {
	add, get, list, remove, lock, decide, withdraw, decided, renew, purge string
	take, delivered, retract                                              string
}

// Store defaults.
const (
	// DefaultLease is how long a request stays decidable after its owner
	// last renewed it: a replica that dies leaves requests nobody can
	// decide after at most this long.
	DefaultLease = 6 * time.Second
	// DefaultPollInterval is how often an owner reads the decisions of
	// its waiting requests, whether or not a notification came.
	DefaultPollInterval = time.Second
	// DefaultDeliveryTimeout is how long Confirm waits for the waiting
	// call to take a decision before withdrawing it.
	DefaultDeliveryTimeout = 3 * time.Second
	// NotifyChannel is the channel decisions are announced on.
	NotifyChannel = "mcpkit_approval"
)

// deadRetention is how long the row of a request whose owner is gone is
// kept (refused with "no call waits" rather than "no such request").
const deadRetention = 10 * time.Minute

// storeTimeout bounds one background statement.
const storeTimeout = 5 * time.Second

// maxDeliveryTimeout bounds WithDeliveryTimeout: Decide and Confirm share
// the console's 10 s.
const maxDeliveryTimeout = 5 * time.Second

// withdrawTimeout bounds the withdrawal of a request whose wait ended. It
// exceeds the 10 s the Console gives a decision.
const withdrawTimeout = 15 * time.Second

// confirmPoll is how often Confirm reads whether the decision was taken.
const confirmPoll = 50 * time.Millisecond

// maxRequestID bounds an id the store will look up.
const maxRequestID = 256

// StoreOption configures NewStore.
type StoreOption func(*storeConfig)

type storeConfig struct {
	schema, instance string
	lease, poll      time.Duration
	delivery         time.Duration
	notify           bool
	logger           *slog.Logger
	errs             []error
}

// WithStoreSchema names the schema Migrate created (DefaultSchema if not
// given).
func WithStoreSchema(name string) StoreOption {
	return func(c *storeConfig) { c.schema = name }
}

// WithInstance names this replica in the rows it owns (serve passes
// -instance-id). Default: a random id per Store. 1 to 64 characters of
// A-Z a-z 0-9 . _ -.
func WithInstance(id string) StoreOption {
	return func(c *storeConfig) { c.instance = id }
}

// WithLease sets how long a request stays decidable after its owner last
// renewed it (DefaultLease); the owner renews every third of it. At least
// a second, and more than the poll interval.
func WithLease(d time.Duration) StoreOption {
	return func(c *storeConfig) { c.lease = d }
}

// WithPollInterval sets how often the owner reads the decisions of its
// waiting requests (DefaultPollInterval): the longest a decision waits
// when its notification is lost. Positive.
func WithPollInterval(d time.Duration) StoreOption {
	return func(c *storeConfig) { c.poll = d }
}

// WithDeliveryTimeout sets how long Confirm (the console, after a
// reviewer's decision) waits for the waiting call to take the decision
// (DefaultDeliveryTimeout) before withdrawing it and answering that it was
// not delivered. More than the poll interval, so that a decision whose
// notification is lost is still taken in time; at most 5 s (the console
// gives a decision 10 s in all).
func WithDeliveryTimeout(d time.Duration) StoreOption {
	return func(c *storeConfig) { c.delivery = d }
}

// WithoutNotify turns LISTEN/NOTIFY off: decisions arrive by polling
// alone. For a connection pooler that does not carry LISTEN (PgBouncer in
// transaction mode).
func WithoutNotify() StoreOption {
	return func(c *storeConfig) { c.notify = false }
}

// WithStoreLogger receives the store's background problems (the listener
// lost, leases not renewed), once per outage; discarded if nil.
func WithStoreLogger(l *slog.Logger) StoreOption {
	return func(c *storeConfig) { c.logger = l }
}

// NewStore returns the store over pool and starts its background work
// (lease renewal, polling, the listener), which runs until Close: ctx
// bounds only the start-up check. The schema must have been migrated
// (Migrate): NewStore checks that it can read it, so a replica without it
// stops at start-up. Close the store before the pool.
func NewStore(ctx context.Context, pool *pgxpool.Pool, opts ...StoreOption) (*Store, error) {
	if pool == nil {
		return nil, errors.New("pgstate: NewStore needs a pool")
	}
	cfg := storeConfig{schema: DefaultSchema, lease: DefaultLease, poll: DefaultPollInterval, delivery: DefaultDeliveryTimeout, notify: true}
	for _, o := range opts {
		o(&cfg)
	}
	if !schemaName.MatchString(cfg.schema) {
		cfg.errs = append(cfg.errs, fmt.Errorf("pgstate: WithStoreSchema(%q): want a name matching %s", cfg.schema, schemaName))
	}
	if cfg.instance == "" {
		cfg.instance = randomInstance()
	} else if !instanceName.MatchString(cfg.instance) {
		cfg.errs = append(cfg.errs, fmt.Errorf("pgstate: WithInstance(%q): use 1 to 64 characters of A-Z a-z 0-9 . _ -", cfg.instance))
	}
	if cfg.poll <= 0 {
		cfg.errs = append(cfg.errs, fmt.Errorf("pgstate: WithPollInterval(%v): want a positive interval", cfg.poll))
	}
	if cfg.lease < time.Second || cfg.lease <= cfg.poll {
		cfg.errs = append(cfg.errs, fmt.Errorf("pgstate: WithLease(%v): want at least 1s and more than the poll interval (%v)", cfg.lease, cfg.poll))
	}
	if cfg.delivery <= cfg.poll || cfg.delivery > maxDeliveryTimeout {
		cfg.errs = append(cfg.errs, fmt.Errorf("pgstate: WithDeliveryTimeout(%v): want more than the poll interval (%v) and at most %v", cfg.delivery, cfg.poll, maxDeliveryTimeout))
	}
	if err := errors.Join(cfg.errs...); err != nil {
		return nil, err
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	t := cfg.schema + ".approval_requests"
	s := &Store{
		pool: pool, schema: cfg.schema, instance: cfg.instance, lease: cfg.lease, poll: cfg.poll, delivery: cfg.delivery, notify: cfg.notify, logger: cfg.logger,
		payload: cfg.schema + " " + cfg.instance,
		owned:   map[string]bool{}, waiting: map[string]chan struct{}{},
		wake: make(chan struct{}, 1),
		sql: storeSQL{
			add: `INSERT INTO ` + t + ` (id, owner, request, created, deadline, lease_until)
VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))
ON CONFLICT (id) DO UPDATE SET owner = EXCLUDED.owner, request = EXCLUDED.request, created = EXCLUDED.created,
  deadline = EXCLUDED.deadline, lease_until = EXCLUDED.lease_until, decision = NULL, decided_at = NULL`,
			get:      `SELECT request FROM ` + t + ` WHERE id = $1`,
			list:     `SELECT request FROM ` + t + ` WHERE decision IS NULL AND lease_until > now() ORDER BY created, id COLLATE "C"`,
			remove:   `DELETE FROM ` + t + ` WHERE id = $1`,
			lock:     `SELECT request, owner, decision IS NOT NULL, lease_until > now() FROM ` + t + ` WHERE id = $1 FOR UPDATE`,
			decide:   `UPDATE ` + t + ` SET decision = $2, decided_at = now() WHERE id = $1 AND decision IS NULL AND lease_until > now()`,
			withdraw: `DELETE FROM ` + t + ` WHERE id = $1 AND owner = $2 RETURNING decision`,
			decided:  `SELECT id FROM ` + t + ` WHERE owner = $1 AND id = ANY($2) AND decision IS NOT NULL`,
			// The owner's take and the decider's retraction of one
			// decision: each changes the row only while it holds the
			// decision, so the row lock lets exactly one of them win.
			take:      `DELETE FROM ` + t + ` WHERE id = $1 AND owner = $2 AND decision IS NOT NULL RETURNING decision`,
			delivered: `SELECT decision IS NOT NULL FROM ` + t + ` WHERE id = $1`,
			retract: `UPDATE ` + t + ` SET decision = NULL, decided_at = NULL, lease_until = least(lease_until, now())
WHERE id = $1 AND decision IS NOT NULL`,
			renew: `UPDATE ` + t + ` SET lease_until = now() + make_interval(secs => $3) WHERE owner = $1 AND id = ANY($2)`,
			purge: `DELETE FROM ` + t + ` WHERE id IN (SELECT id FROM ` + t + ` WHERE lease_until < now() - make_interval(secs => $1)
  LIMIT 1000 FOR UPDATE SKIP LOCKED)`,
		},
	}
	s.health.logger = cfg.logger
	if _, err := pool.Exec(ctx, `SELECT 1 FROM `+t+` LIMIT 0`); err != nil {
		return nil, fmt.Errorf("pgstate: cannot read %s (run pgstate.Migrate first, and grant the role as in role.sql): %w", t, SafeError(err))
	}
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.done.Go(func() { s.run(bg) })
	if s.notify {
		s.done.Go(func() { s.listen(bg) })
	}
	return s, nil
}

// Instance is the id this store writes in the rows it owns.
func (s *Store) Instance() string { return s.instance }

// Close stops the background work and waits for it. Requests still
// waiting are no longer renewed: nobody can decide them after their lease.
func (s *Store) Close() {
	s.cancel()
	s.done.Wait()
}

var instanceName = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$`)

func randomInstance() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "replica-" + hex.EncodeToString(b[:])
}

// validID reports whether id can be a request id: others are unknown
// without a query (PostgreSQL text holds no NUL nor invalid UTF-8).
func validID(id string) bool {
	return id != "" && len(id) <= maxRequestID && utf8.ValidString(id) && !strings.ContainsRune(id, 0)
}

// failed wraps a database error so that it says what was refused.
func failed(what string, err error) error {
	return fmt.Errorf("pgstate: %s (the approval store in PostgreSQL is unavailable, so approvals are refused): %w", what, SafeError(err))
}

// ctxErr returns ctx's error when it is done, else err: a statement cut
// by a done context reports the context.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// Add implements approval.Store: the request is owned by this instance,
// and its lease renewed, until Remove or Await.
func (s *Store) Add(ctx context.Context, r approval.Request) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !validID(r.ID) {
		return fmt.Errorf("pgstate: request id must be 1 to %d bytes of UTF-8 without NUL", maxRequestID)
	}
	r.Call = nil
	body, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("pgstate: encode request: %w", err)
	}
	s.mu.Lock()
	s.owned[r.ID] = true
	s.mu.Unlock()
	if _, err := s.pool.Exec(ctx, s.sql.add, r.ID, s.instance, string(body), r.Created, r.Deadline, s.lease.Seconds()); err != nil {
		s.mu.Lock()
		delete(s.owned, r.ID)
		s.mu.Unlock()
		return ctxErr(ctx, failed("record the pending request", err))
	}
	return nil
}

// Get implements approval.Store.
func (s *Store) Get(ctx context.Context, id string) (approval.Request, error) {
	if err := ctx.Err(); err != nil {
		return approval.Request{}, err
	}
	if !validID(id) {
		return approval.Request{}, approval.ErrNotFound
	}
	var body []byte
	err := s.pool.QueryRow(ctx, s.sql.get, id).Scan(&body)
	if errors.Is(err, pgx.ErrNoRows) {
		return approval.Request{}, approval.ErrNotFound
	}
	if err != nil {
		return approval.Request{}, ctxErr(ctx, failed("read the pending request", err))
	}
	return decodeRequest(body)
}

func decodeRequest(body []byte) (approval.Request, error) {
	var r approval.Request
	if err := json.Unmarshal(body, &r); err != nil {
		return r, fmt.Errorf("pgstate: a stored request is malformed: %w", err)
	}
	return r, nil
}

// List implements approval.Store: the requests not decided yet whose
// owner still vouches for their call.
func (s *Store) List(ctx context.Context) ([]approval.Request, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, s.sql.list)
	if err != nil {
		return nil, ctxErr(ctx, failed("list the pending requests", err))
	}
	bodies, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, ctxErr(ctx, failed("list the pending requests", err))
	}
	out := make([]approval.Request, 0, len(bodies))
	for _, b := range bodies {
		r, err := decodeRequest(b)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	// The database orders by microseconds; Go times have nanoseconds.
	slices.SortStableFunc(out, func(a, b approval.Request) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// Remove implements approval.Store. It waits for a Decide of the request
// in progress (the row lock).
func (s *Store) Remove(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.owned, id)
	s.mu.Unlock()
	if !validID(id) {
		return nil
	}
	if _, err := s.pool.Exec(ctx, s.sql.remove, id); err != nil {
		return ctxErr(ctx, failed("remove the request", err))
	}
	return nil
}

// Decide implements approval.DecisionStore in one transaction: it locks
// the request's row, refuses it when decided (ErrDecided) or when its
// owner's lease ran out (ErrNotWaiting), runs decide on the stored
// request, and stores the decision with a conditional UPDATE (still
// undecided, lease still alive) and a NOTIFY to the owner, both
// committed together.
func (s *Store) Decide(ctx context.Context, id string, decide func(approval.Request) (approval.Decision, error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !validID(id) {
		return approval.ErrNotFound
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return ctxErr(ctx, failed("take the decision", err))
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	var (
		body          []byte
		owner         string
		decided, live bool
	)
	err = tx.QueryRow(ctx, s.sql.lock, id).Scan(&body, &owner, &decided, &live)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return approval.ErrNotFound
	case err != nil:
		return ctxErr(ctx, failed("take the decision", err))
	case decided:
		return approval.ErrDecided
	case !live:
		return approval.ErrNotWaiting
	}
	r, err := decodeRequest(body)
	if err != nil {
		return err
	}
	d, err := decide(r)
	if err != nil {
		return err
	}
	enc, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("pgstate: encode decision: %w", err)
	}
	tag, err := tx.Exec(ctx, s.sql.decide, id, enc)
	if err != nil {
		return ctxErr(ctx, failed("store the decision", err))
	}
	if tag.RowsAffected() != 1 {
		// The lease ran out while decide ran.
		return approval.ErrNotWaiting
	}
	if _, err := tx.Exec(ctx, "SELECT pg_notify($1, $2)", NotifyChannel, s.schema+" "+owner); err != nil {
		return ctxErr(ctx, failed("announce the decision", err))
	}
	if err := tx.Commit(ctx); err != nil {
		return ctxErr(ctx, failed("commit the decision", err))
	}
	return nil
}

// Await implements approval.DecisionStore for a request this instance
// added. It takes a decision by deleting the row that holds it (the
// acknowledgement Confirm waits for), so that a decision Confirm withdrew
// is never taken; withdrawing at the end deletes the row, after any Decide
// holding it, and returns a decision it held.
func (s *Store) Await(ctx context.Context, id string) (approval.Decision, error) {
	sig := make(chan struct{}, 1)
	s.mu.Lock()
	if !s.owned[id] {
		s.mu.Unlock()
		if err := ctx.Err(); err != nil {
			return approval.Decision{}, err
		}
		return approval.Decision{}, approval.ErrNotFound
	}
	s.waiting[id] = sig
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.waiting, id)
		delete(s.owned, id)
		s.mu.Unlock()
	}()
	s.poke() // a decision taken before Await
	for ctx.Err() == nil {
		select {
		case <-sig:
		case <-ctx.Done():
			continue
		}
		if d, ok, err := s.takeRow(ctx, s.sql.take, id); ok || err != nil {
			return d, err
		}
		// Retracted (or not decided after all): keep waiting.
	}
	d, ok, err := s.takeRow(ctx, s.sql.withdraw, id)
	if ok || err != nil {
		// Decided as the wait ended.
		return d, err
	}
	return approval.Decision{}, ctx.Err()
}

// takeRow runs take or withdraw for id and returns the decision the
// deleted row held, if any. It does not depend on ctx: a statement cut
// after its commit would lose a decision Confirm has seen taken. Longer
// than a console's Decide may hold the row (its audit write), so that it
// sees the decision rather than giving up.
func (s *Store) takeRow(ctx context.Context, query, id string) (approval.Decision, bool, error) {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), withdrawTimeout)
	defer cancel()
	var enc []byte
	err := s.pool.QueryRow(wctx, query, id, s.instance).Scan(&enc)
	switch {
	case err == nil && enc != nil:
		var d approval.Decision
		if err := json.Unmarshal(enc, &d); err != nil {
			return d, false, fmt.Errorf("pgstate: a stored decision is malformed: %w", err)
		}
		return d, true, nil
	case err != nil && !errors.Is(err, pgx.ErrNoRows):
		// Its lease runs out unrenewed: nobody decides it after that.
		s.logger.Warn("pgstate: could not take or withdraw a waiting request", "id", id, "error", SafeError(err))
	}
	return approval.Decision{}, false, nil
}

// Confirm implements approval.DeliveryConfirmer: after a Decide of id
// succeeded, it waits up to WithDeliveryTimeout for the owner's Await to
// take the decision (the row is gone). If it was not taken by then, it
// retracts the decision in one conditional UPDATE that races the owner's
// take on the row lock, so that exactly one of them wins: retracted, the
// decision is never applied (ErrNotDelivered), and the request no longer
// listed until its owner, if alive, renews its lease.
func (s *Store) Confirm(ctx context.Context, id string) error {
	if !validID(id) {
		return approval.ErrNotFound
	}
	deadline := time.Now().Add(s.delivery)
	tick := time.NewTicker(confirmPoll)
	defer tick.Stop()
	for ctx.Err() == nil && time.Now().Before(deadline) {
		var held bool
		err := s.pool.QueryRow(ctx, s.sql.delivered, id).Scan(&held)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return nil
		case err == nil && !held:
			return approval.ErrNotDelivered
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
		}
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	tag, err := s.pool.Exec(wctx, s.sql.retract, id)
	if err != nil {
		return failed("withdraw a decision the waiting call did not take", err)
	}
	if tag.RowsAffected() == 1 {
		return approval.ErrNotDelivered
	}
	// Taken just before the retraction, or not held any more.
	var held bool
	err = s.pool.QueryRow(wctx, s.sql.delivered, id).Scan(&held)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil
	case err != nil:
		return failed("read whether the decision was taken", err)
	}
	return approval.ErrNotDelivered
}

// poke asks the background loop to read decisions now.
func (s *Store) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// run renews the leases of owned requests, delivers the decisions of
// waiting ones (on every poll and every notification) and purges the rows
// of dead owners.
func (s *Store) run(ctx context.Context) {
	tick := time.NewTicker(s.poll)
	defer tick.Stop()
	renewEvery := s.lease / 3
	nextRenew, nextPurge := time.Now().Add(renewEvery), time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-s.wake:
		}
		s.deliver(ctx)
		now := time.Now()
		if !now.Before(nextRenew) {
			s.renew(ctx)
			nextRenew = now.Add(renewEvery)
		}
		if !now.Before(nextPurge) {
			s.purge(ctx)
			nextPurge = now.Add(time.Minute)
		}
	}
}

func (s *Store) deliver(ctx context.Context) {
	s.mu.Lock()
	ids := make([]string, 0, len(s.waiting))
	for id := range s.waiting {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	qctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	rows, err := s.pool.Query(qctx, s.sql.decided, s.instance, ids)
	if err != nil {
		s.health.report(ctx, "poll", err)
		return
	}
	all, err := pgx.CollectRows(rows, pgx.RowTo[string])
	s.health.report(ctx, "poll", err)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range all {
		if sig, ok := s.waiting[id]; ok {
			select {
			case sig <- struct{}{}:
			default:
			}
		}
	}
}

func (s *Store) renew(ctx context.Context) {
	s.mu.Lock()
	ids := make([]string, 0, len(s.owned))
	for id := range s.owned {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	qctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	_, err := s.pool.Exec(qctx, s.sql.renew, s.instance, ids, s.lease.Seconds())
	s.health.report(ctx, "renew leases", err)
}

func (s *Store) purge(ctx context.Context) {
	qctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	_, err := s.pool.Exec(qctx, s.sql.purge, deadRetention.Seconds())
	s.health.report(ctx, "purge", err)
}

// listen holds a connection of its own that LISTENs for decisions to this
// instance's requests and wakes the loop on each; when the connection is
// lost it connects again (polling carries decisions meanwhile) and, once
// listening, reads the decisions it may have missed.
func (s *Store) listen(ctx context.Context) {
	for ctx.Err() == nil {
		err := s.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		s.health.report(ctx, "listen", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(s.poll):
		}
	}
}

// ListenerName is the application_name of the listener's connection.
const ListenerName = "mcpkit-approval-listener"

func (s *Store) listenOnce(ctx context.Context) error {
	cfg := s.pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = ListenerName
	cctx, cancel := context.WithTimeout(ctx, storeTimeout)
	conn, err := pgx.ConnectConfig(cctx, cfg)
	cancel()
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(context.Background()) }()
	if _, err := conn.Exec(ctx, "LISTEN "+NotifyChannel); err != nil {
		return err
	}
	s.health.report(ctx, "listen", nil)
	s.poke() // what was decided while not listening
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if n.Payload == s.payload {
			s.poke()
		}
	}
}

var (
	_ approval.DecisionStore     = (*Store)(nil)
	_ approval.DeliveryConfirmer = (*Store)(nil)
)

// health logs a background operation's failure once per outage, and its
// recovery.
type health struct {
	logger *slog.Logger
	mu     sync.Mutex
	down   map[string]bool
}

func (h *health) report(ctx context.Context, what string, err error) {
	if ctx.Err() != nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		if !h.down[what] {
			if h.down == nil {
				h.down = map[string]bool{}
			}
			h.down[what] = true
			h.logger.Warn("pgstate: approval store: "+what+" failed; decisions wait until PostgreSQL answers again", "error", SafeError(err))
		}
		return
	}
	if h.down[what] {
		delete(h.down, what)
		h.logger.Info("pgstate: approval store: " + what + " works again")
	}
}
