package ratelimit_test

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
	"github.com/mcpkit-go/mcpkit/ratelimit"
)

type thingIn struct {
	ID string `json:"id" jsonschema:"description=The thing"`
}

type thingOut struct {
	OK bool `json:"ok" jsonschema:"description=Done"`
}

// records keeps the final audit records.
type records struct {
	mu  sync.Mutex
	all []audit.Record
}

func (r *records) Write(_ context.Context, rec *audit.Record) error {
	if rec.Phase == audit.PhaseStart {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.all = append(r.all, *rec)
	return nil
}

func (r *records) outcomes(subject string) map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := map[string]int{}
	for _, rec := range r.all {
		if rec.Principal.Subject == subject {
			n[rec.Outcome] += 1
			if rec.Refusals != nil {
				n[rec.Outcome] += rec.Refusals.Count - 1
			}
		}
	}
	return n
}

// server has list_things (read-only) and delete_thing (destructive, scope
// admin), audited, the rate gate placed before the scope gate.
type server struct {
	srv     *mcpkit.Server
	ran     atomic.Int64
	records *records
	auditor *audit.Auditor
	gate    *ratelimit.Gate
}

// outcomes writes the pending summaries and counts the calls of subject
// per outcome, a summary record counting for the calls it stands for.
func (s *server) outcomes(t *testing.T, subject string) map[string]int {
	t.Helper()
	require.NoError(t, s.auditor.Close(context.Background()))
	return s.records.outcomes(subject)
}

func newServer(t *testing.T, l ratelimit.Limiter, spec string, opts ...ratelimit.Option) *server {
	t.Helper()
	rules, err := ratelimit.ParseRules(spec)
	require.NoError(t, err)
	gate, err := ratelimit.NewGate(l, rules, opts...)
	require.NoError(t, err)
	s := &server{records: &records{}, gate: gate}
	auditor, err := audit.New(s.records)
	require.NoError(t, err)
	s.auditor = auditor
	s.srv, err = mcpkit.NewServer(&mcp.Implementation{Name: "things", Version: "1"},
		mcpkit.WithMiddleware(auditor.Middleware()),
		mcpkit.WithGates(gate, mcpkit.ScopeGate()))
	require.NoError(t, err)
	handler := func(context.Context, thingIn) (thingOut, error) {
		s.ran.Add(1)
		return thingOut{OK: true}, nil
	}
	mcpkit.MustAddTool(s.srv, mcpkit.Tool{Name: "list_things", Description: "List things.",
		Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Public: true}}, handler)
	mcpkit.MustAddTool(s.srv, mcpkit.Tool{Name: "delete_thing", Description: "Delete a thing.",
		Policy: mcpkit.Policy{Risk: mcpkit.Destructive, Scopes: []string{"admin"}}}, handler)
	return s
}

func (s *server) connect(t *testing.T, id mcpkit.Identity) *mcpkittest.Harness {
	return mcpkittest.NewHarness(t, s.srv, mcpkittest.WithIdentity(id))
}

var (
	alice   = mcpkit.Identity{Subject: "alice", Scopes: []string{"admin"}}
	mallory = mcpkit.Identity{Subject: "mallory"}
)

var retryIn = regexp.MustCompile(`retry in (\d+) seconds`)

func TestOverLimitCallerIsRefusedAndHandlerDoesNotRun(t *testing.T) {
	c := newClock()
	s := newServer(t, newMemory(t, c), "destructive=2/m")
	h := s.connect(t, alice)
	for range 2 {
		require.False(t, h.MustCall("delete_thing", map[string]any{"id": "x"}).IsError)
	}
	require.EqualValues(t, 2, s.ran.Load())

	res := h.MustCall("delete_thing", map[string]any{"id": "x"})
	require.True(t, res.IsError)
	msg := mcpkittest.Text(res)
	require.Contains(t, msg, "rate limit for destructive tools (2/m per caller)")
	m := retryIn.FindStringSubmatch(msg)
	require.NotNil(t, m, "the message says when to retry: %q", msg)
	secs, _ := strconv.Atoi(m[1])
	require.InDelta(t, 30, secs, 1, "2/m gives a token back every 30 s")
	require.EqualValues(t, 2, s.ran.Load(), "the handler did not run for the refused call")
	require.Equal(t, map[string]int{"ok": 2, "denied_rate": 1}, s.outcomes(t, "alice"))

	c.advance(time.Duration(secs) * time.Second)
	require.False(t, h.MustCall("delete_thing", map[string]any{"id": "x"}).IsError, "allowed after the advertised wait")
}

func TestOtherIdentityIsUnaffected(t *testing.T) {
	s := newServer(t, newMemory(t, newClock()), "read_only=3/m")
	m := s.connect(t, mallory)
	for range 10 {
		m.MustCall("list_things", map[string]any{"id": "x"})
	}
	require.Equal(t, 7, s.outcomes(t, "mallory")["denied_rate"])
	a := s.connect(t, alice)
	for range 3 {
		require.False(t, a.MustCall("list_things", map[string]any{"id": "x"}).IsError, "alice has her own budget")
	}
	require.EqualValues(t, 6, s.ran.Load())
}

// The red-team case: a caller with no scopes hammering a tool it may not
// call. Its refusals count: after the limit it gets denied_rate.
func TestRefusedCallsCountAgainstTheLimit(t *testing.T) {
	s := newServer(t, newMemory(t, newClock()), "destructive=2/m")
	h := s.connect(t, mallory)
	for range 5 {
		require.True(t, h.MustCall("delete_thing", map[string]any{"id": "x"}).IsError)
	}
	require.Equal(t, map[string]int{"denied_scope": 2, "denied_rate": 3}, s.outcomes(t, "mallory"))
	require.Zero(t, s.ran.Load())
}

func TestLimitedToolStaysListed(t *testing.T) {
	s := newServer(t, newMemory(t, newClock()), "read_only=1/h,destructive=1/h")
	h := s.connect(t, alice)
	h.MustCall("list_things", map[string]any{"id": "x"})
	require.True(t, h.MustCall("list_things", map[string]any{"id": "x"}).IsError)
	for range 3 {
		require.ElementsMatch(t, []string{"list_things", "delete_thing"}, h.Names(), "limited, not forbidden: still listed")
	}
	require.False(t, h.MustCall("delete_thing", map[string]any{"id": "x"}).IsError, "listing spent no budget")
}

func TestUnlimitedClassIsNotCounted(t *testing.T) {
	s := newServer(t, newMemory(t, newClock()), "destructive=1/h")
	h := s.connect(t, alice)
	for range 20 {
		require.False(t, h.MustCall("list_things", map[string]any{"id": "x"}).IsError)
	}
}

func TestToolLimitOverridesClass(t *testing.T) {
	s := newServer(t, newMemory(t, newClock()), "read_only=1/h,tool:list_things=3/h")
	h := s.connect(t, alice)
	for range 3 {
		require.False(t, h.MustCall("list_things", map[string]any{"id": "x"}).IsError)
	}
	res := h.MustCall("list_things", map[string]any{"id": "x"})
	require.Contains(t, mcpkittest.Text(res), "rate limit for tool list_things (3/h per caller)")
}

func TestLimiterFailureFailsClosed(t *testing.T) {
	broken := ratelimit.Func(func(context.Context, string, ratelimit.Limit) (ratelimit.Decision, error) {
		return ratelimit.Decision{}, errors.New("redis: connection refused")
	})
	s := newServer(t, broken, "read_only=20/s")
	h := s.connect(t, alice)
	res := h.MustCall("list_things", map[string]any{"id": "x"})
	require.True(t, res.IsError)
	require.NotContains(t, mcpkittest.Text(res), "redis", "the cause stays on the server")
	require.Zero(t, s.ran.Load())
	require.Equal(t, map[string]int{"unavailable": 1}, s.outcomes(t, "alice"))
	s.records.mu.Lock()
	require.Contains(t, s.records.all[0].Error, "redis: connection refused", "the cause is on the record")
	s.records.mu.Unlock()
}

func TestKeyCapRefusesNewCallers(t *testing.T) {
	s := newServer(t, newMemory(t, newClock(), ratelimit.WithMaxKeys(1)), "read_only=5/m")
	require.False(t, s.connect(t, alice).MustCall("list_things", map[string]any{"id": "x"}).IsError)
	res := s.connect(t, mallory).MustCall("list_things", map[string]any{"id": "x"})
	require.True(t, res.IsError)
	require.Equal(t, map[string]int{"unavailable": 1}, s.outcomes(t, "mallory"))
	require.EqualValues(t, 1, s.ran.Load())
}

func TestConcurrentCallsDoNotExceedTheLimit(t *testing.T) {
	s := newServer(t, newMemory(t, newClock()), "read_only=10/h")
	h := s.connect(t, alice)
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for range 2 {
				_, _ = h.Call("list_things", map[string]any{"id": "x"})
			}
		})
	}
	wg.Wait()
	require.EqualValues(t, 10, s.ran.Load())
	require.Equal(t, map[string]int{"ok": 10, "denied_rate": 54}, s.outcomes(t, "alice"))
}

func TestNewGateRefusesInvalidInput(t *testing.T) {
	m, err := ratelimit.NewMemory()
	require.NoError(t, err)
	_, err = ratelimit.NewGate(nil, ratelimit.Rules{Class: map[mcpkit.Risk]ratelimit.Limit{mcpkit.ReadOnly: {Events: 1, Per: time.Second}}})
	require.ErrorContains(t, err, "needs a limiter")
	_, err = ratelimit.NewGate(m, ratelimit.Rules{})
	require.ErrorContains(t, err, "no limits")
	_, err = ratelimit.NewGate(m, ratelimit.Rules{Class: map[mcpkit.Risk]ratelimit.Limit{mcpkit.Write: {Events: 1}}})
	require.ErrorContains(t, err, "write: period")
	_, err = ratelimit.NewGate(m, ratelimit.Rules{Tool: map[string]ratelimit.Limit{"x": {Events: 1, Per: time.Second, Burst: -1}}})
	require.ErrorContains(t, err, "tool:x: burst")
}

// The red-team report: a caller without scopes sent 1000 refused calls,
// one audit record each. With the limit, refusals count, and the calls
// refused by the limit are counted into summary records: a handful of
// records stand for all 1000 calls.
func TestRateLimitedBurstWritesBoundedAuditRecords(t *testing.T) {
	s := newServer(t, newMemory(t, newClock()), "destructive=2/m,read_only=20/s")
	h := s.connect(t, mallory)
	for range 1000 {
		require.True(t, h.MustCall("delete_thing", map[string]any{"id": "x"}).IsError)
	}
	s.records.mu.Lock()
	written := len(s.records.all)
	s.records.mu.Unlock()
	require.Equal(t, 3, written, "2 scope refusals and the first rate refusal, in full")
	require.Equal(t, map[string]int{"denied_scope": 2, "denied_rate": 998}, s.outcomes(t, "mallory"), "every call is accounted for")
	s.records.mu.Lock()
	defer s.records.mu.Unlock()
	require.Len(t, s.records.all, 4, "plus one summary")
	sum := s.records.all[3]
	require.Equal(t, "denied_rate", sum.Outcome)
	require.Equal(t, "mallory", sum.Principal.Subject)
	require.Equal(t, "delete_thing", sum.Tool)
	require.Equal(t, 997, sum.Refusals.Count)
}
