package pgstate

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/internal/pgtest"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
	"github.com/mcpkit-go/mcpkit/ratelimit"
)

// reconDB is a role and a database with names that cannot occur by
// chance, reached over TCP as a replica reaches its database.
type reconDB struct {
	pool            *pgxpool.Pool
	role, name, pwd string
	port            int
}

func newReconDB(t *testing.T) reconDB {
	t.Helper()
	c := pg.Get(t)
	ctx := context.Background()
	suffix := strings.ToLower(pgtest.Password()[3:])
	r := reconDB{role: "zqreconrole" + suffix, name: "zqrecondb" + suffix, pwd: pgtest.Password(), port: c.Port()}
	require.NoError(t, c.Exec(ctx, "postgres", "CREATE ROLE "+r.role+" LOGIN PASSWORD '"+r.pwd+"'"))
	require.NoError(t, c.Exec(ctx, "postgres", "CREATE DATABASE "+r.name+" OWNER "+r.role))
	pool, err := pgxpool.New(ctx, c.URL(r.role, r.pwd, r.name))
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	require.NoError(t, Migrate(ctx, pool, ""))
	r.pool = pool
	return r
}

// leaks lists what of the connection text names in s.
func (r reconDB) leaks(s string) []string {
	var found []string
	for _, w := range []string{r.role, r.name, r.pwd, "zqrecon", "127.0.0.1", ":" + strconv.Itoa(r.port), "port=" + strconv.Itoa(r.port),
		"user=", "database=", "dbname=", "host=", "postgres://"} {
		if strings.Contains(s, w) {
			found = append(found, w)
		}
	}
	return found
}

// A query error keeps its SQLSTATE (errors.As finds a *pgconn.PgError
// with the code) and drops PostgreSQL's message; context errors stay
// findable with errors.Is.
func TestSafeErrorKeepsCategory(t *testing.T) {
	r := newReconDB(t)
	ctx := context.Background()
	_, err := r.pool.Exec(ctx, "SELECT * FROM "+r.name+"_missing")
	require.Error(t, err)
	safe := SafeError(err)
	assert.Empty(t, r.leaks(safe.Error()))
	assert.Equal(t, "PostgreSQL refused the request: SQLSTATE 42P01 (class 42)", safe.Error())
	var pe *pgconn.PgError
	require.ErrorAs(t, safe, &pe)
	assert.Equal(t, "42P01", pe.Code)
	assert.Empty(t, pe.Message)

	short, cancel := context.WithTimeout(ctx, time.Millisecond)
	defer cancel()
	_, err = r.pool.Exec(short, "SELECT pg_sleep(1)")
	require.Error(t, err)
	safe = SafeError(err)
	assert.ErrorIs(t, safe, context.DeadlineExceeded)
	assert.Equal(t, "PostgreSQL did not answer in time", safe.Error())
	assert.Same(t, safe, SafeError(safe), "already safe")
	assert.NoError(t, SafeError(nil))
}

// The attack: PostgreSQL is down, and whoever reads the errors, the logs
// or the audit file learns the database's user, name, host and port from
// pgx's connect errors. With the fix none of them appears anywhere, and
// each error still says what went wrong.
func TestOutageErrorsNameNoConnectionDetails(t *testing.T) {
	r := newReconDB(t)
	ctx := context.Background()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	replay := newReplay(t, r.pool)
	limiter := newLimiter(t, r.pool)
	store, err := NewStore(ctx, r.pool, WithStoreLogger(logger), WithLease(3*time.Second), WithPollInterval(200*time.Millisecond))
	require.NoError(t, err)
	t.Cleanup(store.Close)
	require.Eventually(t, func() bool {
		var n int
		return r.pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND datname = $2`, ListenerName, r.name).Scan(&n) == nil && n == 1
	}, 10*time.Second, 50*time.Millisecond, "the listener did not connect")

	// A server whose gate falls back while the shared limiter is down, and
	// audits to a file.
	rules, err := ratelimit.ParseRules("read_only=3/m,destructive=2/m")
	require.NoError(t, err)
	gate, err := ratelimit.NewGate(limiter, rules, ratelimit.WithFallback(3, mcpkit.ReadOnly), ratelimit.WithLogger(logger))
	require.NoError(t, err)
	auditPath := filepath.Join(t.TempDir(), "audit.jsonl")
	sink, err := audit.Open(auditPath, audit.WithInsecureNoKey())
	require.NoError(t, err)
	auditor, err := audit.New(sink)
	require.NoError(t, err)
	srv, err := mcpkit.NewServer(&mcp.Implementation{Name: "things", Version: "1"},
		mcpkit.WithMiddleware(auditor.Middleware()), mcpkit.WithGates(gate, mcpkit.ScopeGate()))
	require.NoError(t, err)
	var ran atomic.Int64
	handler := func(context.Context, thing) (thing, error) { ran.Add(1); return thing{ID: "ok"}, nil }
	mcpkit.MustAddTool(srv, mcpkit.Tool{Name: "delete_thing", Description: "Delete a thing.",
		Policy: mcpkit.Policy{Risk: mcpkit.Destructive, Public: true}}, handler)
	h := mcpkittest.NewHarness(t, srv, mcpkittest.WithIdentity(mcpkit.Identity{Subject: "alice"}))

	// A request owned (leases renewed) and awaited (polled) across the outage.
	held := approval.Request{ID: "held-" + pgtest.Password(), Tool: "delete_thing", Created: time.Now(), Deadline: time.Now().Add(time.Hour)}
	require.NoError(t, store.Add(ctx, held))
	awaitCtx, stopAwait := context.WithCancel(ctx)
	awaited := make(chan error, 1)
	go func() { _, err := store.Await(awaitCtx, held.ID); awaited <- err }()

	stopPG(t, newDB(t)) // a superuser: CHECKPOINT

	var errs []error
	_, err = replay.Use(ctx, "during-outage", time.Now().Add(time.Hour))
	require.Error(t, err)
	var re *ReplayError
	require.ErrorAs(t, err, &re)
	errs = append(errs, err, re.Cause)
	assertOutage(t, re.Cause)

	_, err = limiter.Allow(ctx, "k", ratelimit.Limit{Events: 1, Per: time.Second})
	var le *LimiterError
	require.ErrorAs(t, err, &le)
	assertOutage(t, err)
	errs = append(errs, err)

	err = store.Add(ctx, approval.Request{ID: "new", Created: time.Now(), Deadline: time.Now().Add(time.Hour)})
	require.Error(t, err)
	assertOutage(t, err)
	errs = append(errs, err)
	_, err = store.List(ctx)
	errs = append(errs, err)
	errs = append(errs, store.Decide(ctx, held.ID, func(approval.Request) (approval.Decision, error) {
		return approval.Decision{Verdict: approval.VerdictApproved}, nil
	}))
	errs = append(errs, Check(ctx, r.pool, ""), Migrate(ctx, r.pool, ""))
	_, err = NewStore(ctx, r.pool)
	errs = append(errs, err)
	for _, err := range errs {
		require.Error(t, err)
		assert.Empty(t, r.leaks(err.Error()), "%v", err)
		assert.Contains(t, err.Error(), "PostgreSQL", "the error still says what failed")
	}

	res := h.MustCall("delete_thing", map[string]any{"id": "x"})
	require.True(t, res.IsError, "a destructive call went through while the shared limit could not be decided")
	assert.Zero(t, ran.Load())

	// The listener's reconnects, the poll and the lease renewal fail and
	// log; the wait ends and its withdrawal fails and logs.
	require.Eventually(t, func() bool {
		return logs.count("listen failed") == 1 && logs.count("poll failed") == 1 && logs.count("renew leases failed") == 1
	}, 10*time.Second, 50*time.Millisecond, "the store did not log its outage: %s", func() string { logs.mu.Lock(); defer logs.mu.Unlock(); return logs.b.String() }())
	stopAwait()
	select {
	case <-awaited:
	case <-time.After(30 * time.Second):
		t.Fatal("Await did not return")
	}
	require.NoError(t, auditor.Close(ctx))
	require.NoError(t, sink.Close(ctx))

	logs.mu.Lock()
	logText := logs.b.String()
	logs.mu.Unlock()
	assert.Contains(t, logText, "rate limiter failed")
	assert.Contains(t, logText, "could not take or withdraw")
	assert.Regexp(t, outageCategory, logText)
	assert.Empty(t, r.leaks(logText), "%s", logText)
	file, err := os.ReadFile(auditPath)
	require.NoError(t, err)
	assert.Contains(t, string(file), "unavailable")
	var recorded int
	for line := range strings.Lines(string(file)) {
		var rec struct {
			Error string `json:"error"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &rec))
		assert.Empty(t, r.leaks(rec.Error), "%s", rec.Error)
		if rec.Error != "" {
			recorded++
		}
	}
	assert.NotZero(t, recorded, "the refusal's record has an error")
	// Anywhere in the file (numbers aside, which a port could match).
	for _, w := range r.leaks(string(file)) {
		assert.True(t, strings.HasPrefix(w, ":"), "the audit file holds %q", w)
	}
	t.Logf("replay: %v\nlimiter: %v\nstore: %v", errs[1], errs[2], errs[3])
}

// outageCategory is what an error says when PostgreSQL went away: a new
// connection refused, or a pooled connection that was cut (which of the two
// a call meets depends on the pool's state when the server stopped).
var outageCategory = regexp.MustCompile(`could not connect to PostgreSQL|the connection to PostgreSQL was lost`)

// assertOutage checks that err still names the category of the failure.
func assertOutage(t *testing.T, err error) {
	t.Helper()
	if assert.Error(t, err) {
		assert.Regexp(t, outageCategory, err.Error())
	}
}
