package pgstate

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
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

type thing struct {
	ID string `json:"id" jsonschema:"description=The thing"`
}

// outcomes is an audit sink counting final outcomes.
type outcomes struct {
	mu   sync.Mutex
	n    map[string]int
	last string
}

func (o *outcomes) Write(_ context.Context, rec *audit.Record) error {
	if rec.Phase == audit.PhaseStart {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 1
	if rec.Refusals != nil {
		n = rec.Refusals.Count
	}
	o.n[rec.Outcome] += n
	if rec.Error != "" {
		o.last = rec.Error
	}
	return nil
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) count(sub string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Count(s.b.String(), sub)
}

// PostgreSQL stops mid-run under a gate with WithFallback(3, ReadOnly):
// destructive calls are refused (unavailable) and do not run; read-only
// calls go on, still limited, at a third of the limit; one warning; when
// PostgreSQL is back the shared limit decides again, with no restart.
func TestLimiterOutageRefusesDestructiveKeepsReadOnlyAndRecovers(t *testing.T) {
	cluster := pg.Get(t)
	db := migrated(t)
	limiter := newLimiter(t, db)
	rules, err := ratelimit.ParseRules("read_only=3/m,destructive=2/m")
	require.NoError(t, err)
	logs := &syncBuffer{}
	gate, err := ratelimit.NewGate(limiter, rules, ratelimit.WithFallback(3, mcpkit.ReadOnly),
		ratelimit.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	require.NoError(t, err)
	rec := &outcomes{n: map[string]int{}}
	auditor, err := audit.New(rec)
	require.NoError(t, err)
	srv, err := mcpkit.NewServer(&mcp.Implementation{Name: "things", Version: "1"},
		mcpkit.WithMiddleware(auditor.Middleware()), mcpkit.WithGates(gate, mcpkit.ScopeGate()))
	require.NoError(t, err)
	var ran atomic.Int64
	handler := func(context.Context, thing) (thing, error) { ran.Add(1); return thing{ID: "ok"}, nil }
	mcpkit.MustAddTool(srv, mcpkit.Tool{Name: "list_things", Description: "List things.",
		Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Public: true}}, handler)
	mcpkit.MustAddTool(srv, mcpkit.Tool{Name: "delete_thing", Description: "Delete a thing.",
		Policy: mcpkit.Policy{Risk: mcpkit.Destructive, Public: true}}, handler)
	h := mcpkittest.NewHarness(t, srv, mcpkittest.WithIdentity(mcpkit.Identity{Subject: "alice"}))
	args := map[string]any{"id": "x"}

	require.False(t, h.MustCall("delete_thing", args).IsError, "decided by PostgreSQL")
	require.EqualValues(t, 1, ran.Load())

	ctx := context.Background()
	// The throwaway cluster runs with synchronous_commit=off and stops
	// like a crash: without a checkpoint the last commits (the schema,
	// the bucket) could be lost with it.
	_, err = db.Exec(ctx, "CHECKPOINT")
	require.NoError(t, err)
	require.NoError(t, cluster.Stop(ctx))
	t.Cleanup(func() { _ = cluster.Start(context.Background()) })

	for range 3 {
		res := h.MustCall("delete_thing", args)
		require.True(t, res.IsError, "a destructive call went through while the shared limit could not be decided")
		require.NotContains(t, mcpkittest.Text(res), "PostgreSQL", "the cause stays on the server")
	}
	require.EqualValues(t, 1, ran.Load(), "no destructive call ran during the outage")
	require.False(t, h.MustCall("list_things", args).IsError, "read-only calls go on")
	require.EqualValues(t, 2, ran.Load())
	res := h.MustCall("list_things", args)
	require.True(t, res.IsError, "and are still limited: 3/m over 3 replicas is one call per 60 s here")
	require.Contains(t, mcpkittest.Text(res), "retry in 60 seconds")
	require.Equal(t, 1, logs.count("rate limiter failed"), "one warning per outage")

	require.NoError(t, cluster.Start(ctx))
	deadline := time.Now().Add(20 * time.Second)
	for h.MustCall("delete_thing", args).IsError {
		rec.mu.Lock()
		last := rec.last
		rec.mu.Unlock()
		require.True(t, time.Now().Before(deadline), "the shared limit did not decide again within 20 s of PostgreSQL's return; last error: %s", last)
		time.Sleep(200 * time.Millisecond)
	}
	require.EqualValues(t, 3, ran.Load())
	require.Equal(t, 1, logs.count("rate limiter answers again"))
	// The shared bucket counted both destructive calls: the third is refused.
	res = h.MustCall("delete_thing", args)
	require.True(t, res.IsError)
	require.Contains(t, mcpkittest.Text(res), "rate limit for destructive tools")

	require.NoError(t, auditor.Close(ctx))
	rec.mu.Lock()
	defer rec.mu.Unlock()
	require.GreaterOrEqual(t, rec.n["unavailable"], 3, "the refused destructive calls are on the record")
	require.Equal(t, 3, rec.n["ok"])
	require.Equal(t, 2, rec.n["denied_rate"])
}
