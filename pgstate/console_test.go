package pgstate

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// A fleet in one test: replicas with their own pool, Store, Console (its
// HTTP API on 127.0.0.1) and MCP server, sharing one database. Reviewers
// sign in with bearer tokens; alice and bob are approvers.

const approverScope = "items:approve"

var reviewerTokens = map[string]mcpkit.Identity{
	"tok-alice": {Subject: "alice", Scopes: []string{approverScope}},
	"tok-bob":   {Subject: "bob", Scopes: []string{approverScope}},
	"tok-carol": {Subject: "carol", Scopes: []string{approverScope}},
	"tok-eve":   {Subject: "eve"},
}

func reviewer(r *http.Request) (mcpkit.Identity, error) {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if id, ok := reviewerTokens[tok]; ok {
		return id, nil
	}
	return mcpkit.Identity{}, errors.New("no valid token")
}

type fleetReplica struct {
	name    string
	pool    *pgxpool.Pool
	store   *Store
	console *approval.Console
	http    *httptest.Server
	mcp     *mcpkit.Server
	pending chan approval.Request
	runs    *atomic.Int32
	mu      sync.Mutex
	reviews []approval.Review
}

type notifyChan chan approval.Request

func (n notifyChan) Notify(_ context.Context, r approval.Request) error {
	select {
	case n <- r:
	default:
	}
	return nil
}

// newFleetReplica starts a replica on its own pool over db. runs is the
// fleet's handler counter.
func newFleetReplica(t *testing.T, name string, db *pgxpool.Pool, runs *atomic.Int32, timeout time.Duration, opts ...StoreOption) *fleetReplica {
	t.Helper()
	return newKeyedReplica(t, name, db, runs, timeout, fleetKeys, opts...)
}

// fleetKeys are the fleet's approval keys in these tests.
var fleetKeys = mustKeyring(approval.Key{ID: "k1", Secret: []byte(strings.Repeat("s", 32))})

func mustKeyring(keys ...approval.Key) *approval.Keyring {
	kr, err := approval.NewKeyring(keys...)
	if err != nil {
		panic(err)
	}
	return kr
}

// newKeyedReplica is newFleetReplica sealing with keys.
func newKeyedReplica(t *testing.T, name string, db *pgxpool.Pool, runs *atomic.Int32, timeout time.Duration, keys *approval.Keyring, opts ...StoreOption) *fleetReplica {
	t.Helper()
	r := &fleetReplica{name: name, pool: replica(t, db), pending: make(chan approval.Request, 8), runs: runs}
	r.store = newStore(t, r.pool, append([]StoreOption{WithInstance(name), WithPollInterval(200 * time.Millisecond), WithLease(time.Second)}, opts...)...)
	c, err := approval.NewConsole(context.Background(), approval.ConsoleConfig{
		Authenticate: reviewer,
		Reviewers:    approval.ReviewerRule{Scopes: []string{approverScope}},
		Store:        r.store,
		Keys:         keys,
		Notifiers:    []approval.Notifier{notifyChan(r.pending)},
		OnReview: func(_ context.Context, rv approval.Review) error {
			r.mu.Lock()
			r.reviews = append(r.reviews, rv)
			r.mu.Unlock()
			return nil
		},
	})
	require.NoError(t, err)
	r.console = c
	r.http = httptest.NewServer(c)
	t.Cleanup(r.http.Close)
	r.mcp = mcpkit.MustNewServer(&mcp.Implementation{Name: "fleet-" + name, Version: "1.0.0"},
		mcpkit.WithInnerMiddleware(approval.MustNew(c, approval.WithTimeout(timeout))),
		mcpkit.WithIdentityResolver(func(_ context.Context, req mcp.Request) (mcpkit.Identity, error) {
			if cr, ok := req.(*mcp.CallToolRequest); ok && cr.ClientInfo() != nil {
				return mcpkit.Identity{Subject: cr.ClientInfo().Name, AuthMethod: "test"}, nil
			}
			return mcpkit.Identity{}, errors.New("no client name")
		}))
	mcpkit.MustAddTool(r.mcp, mcpkit.Tool{Name: "delete_item", Description: "Delete an item.",
		Policy: mcpkit.Policy{Risk: mcpkit.Destructive, Public: true}},
		func(_ context.Context, in deleteIn) (deleteOut, error) {
			runs.Add(1)
			return deleteOut{Deleted: in.ID}, nil
		})
	return r
}

type callResult struct {
	res *mcp.CallToolResult
	err error
}

// call makes caller's delete_item call on the replica in the background and
// returns the request it put up for review.
func (r *fleetReplica) call(t *testing.T, caller string) (approval.Request, chan callResult) {
	t.Helper()
	cs := mcpkittest.NewHarness(t, r.mcp, mcpkittest.WithClientInfo(caller, "1")).Session
	done := make(chan callResult, 1)
	go func() {
		res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "delete_item", Arguments: map[string]any{"id": "x"}})
		done <- callResult{res, err}
	}()
	select {
	case p := <-r.pending:
		return p, done
	case <-time.After(10 * time.Second):
		t.Fatal("the call was not put up for review")
		return approval.Request{}, nil
	}
}

// decide posts a decision to the replica's console.
func (r *fleetReplica) decide(t *testing.T, token, id, action, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", r.http.URL+"/api/pending/"+id+"/"+action, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	return res.StatusCode, readAll(res)
}

func readAll(res *http.Response) string {
	buf := new(strings.Builder)
	_, _ = io.Copy(buf, res.Body)
	return buf.String()
}

func (r *fleetReplica) lastReview(t *testing.T) approval.Review {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	require.NotEmpty(t, r.reviews, "no review was recorded on %s", r.name)
	return r.reviews[len(r.reviews)-1]
}

func wait(t *testing.T, done chan callResult) callResult {
	t.Helper()
	select {
	case r := <-done:
		require.NoError(t, r.err)
		return r
	case <-time.After(20 * time.Second):
		t.Fatal("the call did not end")
		return callResult{}
	}
}

// A reviewer on replica B approves a call waiting on replica A: it runs on
// A, and B's audit has the approval.
func TestFleetDecisionReachesTheWaitingReplica(t *testing.T) {
	db := migrated(t)
	var runs atomic.Int32
	a := newFleetReplica(t, "a", db, &runs, time.Minute)
	b := newFleetReplica(t, "b", db, &runs, time.Minute)

	p, done := a.call(t, "carol")
	// Every replica lists it.
	code, body := get(t, b, "tok-bob", "/api/pending")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, p.ID)

	code, body = b.decide(t, "tok-bob", p.ID, "approve", `{"reason":"checked"}`)
	require.Equal(t, http.StatusOK, code, body)
	res := wait(t, done)
	require.False(t, res.res.IsError, mcpkittest.Text(res.res))
	assert.EqualValues(t, 1, runs.Load())
	rv := b.lastReview(t)
	assert.Equal(t, approval.ReviewApproved, rv.Outcome)
	assert.Equal(t, "bob", rv.Reviewer.Subject)
	require.NotNil(t, rv.Request)
	assert.Equal(t, "carol", rv.Request.Principal.Subject)

	// A denial from another replica reaches the caller with its reason.
	p, done = a.call(t, "carol")
	code, body = b.decide(t, "tok-alice", p.ID, "deny", `{"reason":"not during the freeze"}`)
	require.Equal(t, http.StatusOK, code, body)
	res = wait(t, done)
	assert.True(t, res.res.IsError)
	assert.Contains(t, mcpkittest.Text(res.res), "not during the freeze")
	assert.EqualValues(t, 1, runs.Load(), "a denied call ran")
}

func get(t *testing.T, r *fleetReplica, token, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", r.http.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	return res.StatusCode, readAll(res)
}

// Two reviewers deciding at once on two replicas (separate pools) yield
// one decision: one gets 200, the other 409 (or 404 when the call already
// took the decision and ended) and a not_waiting record, and the call gets
// the winner's decision.
func TestFleetConcurrentDecisionsYieldOne(t *testing.T) {
	db := migrated(t)
	var runs atomic.Int32
	a := newFleetReplica(t, "a", db, &runs, time.Minute)
	b := newFleetReplica(t, "b", db, &runs, time.Minute)
	c := newFleetReplica(t, "c", db, &runs, time.Minute)
	for round := range 5 {
		p, done := a.call(t, "carol")
		type answer struct {
			code   int
			body   string
			action string
		}
		answers := make([]answer, 2)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, rp := range []*fleetReplica{b, c} {
			action, body, tok := "approve", `{}`, "tok-bob"
			if i == 1 {
				action, body, tok = "deny", `{"reason":"no"}`, "tok-alice"
			}
			wg.Go(func() {
				<-start
				code, resp := rp.decide(t, tok, p.ID, action, body)
				answers[i] = answer{code, resp, action}
			})
		}
		close(start)
		wg.Wait()
		var won []answer
		for _, an := range answers {
			switch an.code {
			case http.StatusOK:
				won = append(won, an)
			case http.StatusConflict:
				assert.Contains(t, an.body, "already decided by another reviewer")
			case http.StatusNotFound:
				// Decided, and the call already took it and ended.
				assert.Contains(t, an.body, "it was decided")
			default:
				t.Fatalf("round %d: unexpected answer %d %s", round, an.code, an.body)
			}
		}
		require.Len(t, won, 1, "round %d: %+v", round, answers)
		res := wait(t, done)
		if won[0].action == "approve" {
			assert.False(t, res.res.IsError, "round %d: approval won but the call was refused: %s", round, mcpkittest.Text(res.res))
		} else {
			assert.True(t, res.res.IsError, "round %d: denial won but the call ran", round)
		}
	}
	for _, r := range []*fleetReplica{b, c} {
		r.mu.Lock()
		var decided, refused int
		for _, rv := range r.reviews {
			switch rv.Outcome {
			case approval.ReviewApproved, approval.ReviewDenied:
				decided++
			case approval.ReviewNotWaiting:
				refused++
			}
		}
		r.mu.Unlock()
		t.Logf("%s: %d decisions, %d refused", r.name, decided, refused)
	}
	b.mu.Lock()
	n := len(b.reviews)
	b.mu.Unlock()
	c.mu.Lock()
	n += len(c.reviews)
	c.mu.Unlock()
	assert.Equal(t, 10, n, "every attempt is on the record, once")
}

// A decision after the waiting call timed out is refused and audited; the
// handler never runs.
func TestFleetDecisionAfterTimeoutIsRefused(t *testing.T) {
	db := migrated(t)
	var runs atomic.Int32
	a := newFleetReplica(t, "a", db, &runs, 500*time.Millisecond)
	b := newFleetReplica(t, "b", db, &runs, time.Minute)
	p, done := a.call(t, "carol")
	res := wait(t, done)
	require.True(t, res.res.IsError)
	code, body := b.decide(t, "tok-bob", p.ID, "approve", `{}`)
	assert.Equal(t, http.StatusNotFound, code, body)
	rv := b.lastReview(t)
	assert.Equal(t, approval.ReviewNotWaiting, rv.Outcome)
	assert.Equal(t, "bob", rv.Reviewer.Subject)
	time.Sleep(500 * time.Millisecond)
	assert.Zero(t, runs.Load(), "the handler ran for a decision taken after the call timed out")
}

// A replica that dies leaves its requests in the table; once their lease
// ran out a decision for them is refused (409, audited), and they are no
// longer listed.
func TestFleetDecisionForADeadReplicaIsRefused(t *testing.T) {
	db := migrated(t)
	var runs atomic.Int32
	b := newFleetReplica(t, "b", db, &runs, time.Minute)
	dead, err := NewStore(context.Background(), replica(t, db), WithInstance("dead"), WithLease(time.Second), WithPollInterval(200*time.Millisecond))
	require.NoError(t, err)
	ctx := context.Background()
	req := approval.Request{ID: "from-dead", Tool: "delete_item", Principal: mcpkit.Identity{Subject: "carol"},
		Created: time.Now(), Deadline: time.Now().Add(time.Hour)}
	req, err = fleetKeys.SealRequest(req)
	require.NoError(t, err)
	require.NoError(t, dead.Add(ctx, req))
	_, body := get(t, b, "tok-bob", "/api/pending")
	require.Contains(t, body, "from-dead", "a live replica's request is listed")
	dead.Close() // the replica dies: nobody renews its lease
	time.Sleep(1500 * time.Millisecond)

	_, body = get(t, b, "tok-bob", "/api/pending")
	assert.NotContains(t, body, "from-dead", "a dead replica's request is still listed")
	code, body := b.decide(t, "tok-bob", "from-dead", "approve", `{}`)
	assert.Equal(t, http.StatusConflict, code, body)
	assert.Contains(t, body, "no longer waiting")
	rv := b.lastReview(t)
	assert.Equal(t, approval.ReviewNotWaiting, rv.Outcome)
	var decided bool
	require.NoError(t, db.QueryRow(ctx, "SELECT decision IS NOT NULL FROM mcpkit.approval_requests WHERE id = 'from-dead'").Scan(&decided))
	assert.False(t, decided, "a decision was stored for a dead replica's request")
}

// Four eyes and the approver rule are checked on the deciding replica
// against the stored request.
func TestFleetRulesHoldAcrossReplicas(t *testing.T) {
	db := migrated(t)
	var runs atomic.Int32
	a := newFleetReplica(t, "a", db, &runs, 2*time.Second)
	b := newFleetReplica(t, "b", db, &runs, time.Minute)
	p, done := a.call(t, "alice")
	code, body := b.decide(t, "tok-alice", p.ID, "approve", `{}`)
	assert.Equal(t, http.StatusForbidden, code, body)
	assert.Contains(t, body, "four eyes")
	assert.Equal(t, approval.ReviewRefused, b.lastReview(t).Outcome)
	code, body = b.decide(t, "tok-eve", p.ID, "approve", `{}`)
	assert.Equal(t, http.StatusForbidden, code, body)
	res := wait(t, done)
	assert.True(t, res.res.IsError)
	assert.Zero(t, runs.Load(), "the caller approved their own call through another replica")
}

// Forged, garbage and SQL-looking ids are unknown requests: 404, audited,
// the table intact.
func TestFleetHostileIDs(t *testing.T) {
	db := migrated(t)
	var runs atomic.Int32
	a := newFleetReplica(t, "a", db, &runs, time.Minute)
	b := newFleetReplica(t, "b", db, &runs, time.Minute)
	p, done := a.call(t, "carol")
	for _, id := range []string{
		"x'); DELETE FROM mcpkit.approval_requests; --",
		"' OR '1'='1",
		p.ID + "' OR id <> '",
		"%00", "%FF%FE", strings.Repeat("a", 300), "..%2F..%2Fetc",
	} {
		code, body := b.decide(t, "tok-bob", url.PathEscape(id), "approve", `{}`)
		if code == http.StatusBadRequest || code == http.StatusMethodNotAllowed {
			continue // refused by the router before the console
		}
		assert.Equal(t, http.StatusNotFound, code, "%q: %s", id, body)
	}
	code, body := b.decide(t, "tok-bob", "%00", "approve", `{}`)
	assert.Equal(t, http.StatusNotFound, code, body)
	assert.Equal(t, approval.ReviewNotWaiting, b.lastReview(t).Outcome)
	// The real request is untouched and still decidable.
	code, body = b.decide(t, "tok-bob", p.ID, "approve", `{}`)
	require.Equal(t, http.StatusOK, code, body)
	res := wait(t, done)
	assert.False(t, res.res.IsError)
	assert.EqualValues(t, 1, runs.Load())
}

// With the listener's connection killed, a decision is still delivered (by
// polling, and by the listener once it is back); with LISTEN/NOTIFY off,
// by polling alone.
func TestFleetDecisionSurvivesALostListener(t *testing.T) {
	db := migrated(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		opts []StoreOption
	}{{"listener killed", nil}, {"notify off", []StoreOption{WithoutNotify()}}} {
		t.Run(tc.name, func(t *testing.T) {
			var runs atomic.Int32
			a := newFleetReplica(t, "a-"+strings.ReplaceAll(tc.name, " ", "-"), db, &runs, time.Minute, tc.opts...)
			b := newFleetReplica(t, "b-"+strings.ReplaceAll(tc.name, " ", "-"), db, &runs, time.Minute)
			p, done := a.call(t, "carol")
			if tc.opts == nil {
				var killed int
				require.Eventually(t, func() bool {
					return db.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, ListenerName).Scan(&killed) == nil && killed > 0
				}, 5*time.Second, 50*time.Millisecond, "no listener connection to kill")
			}
			code, body := b.decide(t, "tok-bob", p.ID, "approve", `{}`)
			require.Equal(t, http.StatusOK, code, body)
			res := wait(t, done)
			assert.False(t, res.res.IsError, mcpkittest.Text(res.res))
			assert.EqualValues(t, 1, runs.Load())
		})
	}
}
