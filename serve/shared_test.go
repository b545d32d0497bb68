package serve_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/internal/loopback/loopbacktest"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
	"github.com/mcpkit-go/mcpkit/ratelimit"
	"github.com/mcpkit-go/mcpkit/serve"
)

// A shared-state URL with a password in it: it must appear in no error and
// no log line.
const (
	secretURL      = "postgres://mcpkit:s3cret-pa55word@db.internal:5432/fleet"
	secretPassword = "s3cret-pa55word"
	// approvalKeys is one 32-byte key, shared by the test's replicas.
	approvalKeys = "k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
)

// fleetEnv is the environment of a replica: the approval keys and the
// shared-state URL.
func fleetEnv(name string) string {
	switch name {
	case "NOTES_APPROVAL_KEYS":
		return approvalKeys
	case "NOTES_SHARED_STATE":
		return secretURL
	}
	return ""
}

// spyReplay is a shared ReplayCache that remembers what it was asked.
type spyReplay struct {
	mu   sync.Mutex
	used map[string]bool
	uses int
}

func (s *spyReplay) Use(_ context.Context, id string, _ time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.uses++
	if s.used == nil {
		s.used = map[string]bool{}
	}
	if s.used[id] {
		return false, nil
	}
	s.used[id] = true
	return true, nil
}

func (s *spyReplay) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.uses
}

// spyStore is a console Store that counts the requests added to it.
type spyStore struct {
	*approval.MemoryStore
	mu    sync.Mutex
	added int
}

func (s *spyStore) Add(ctx context.Context, r approval.Request) error {
	s.mu.Lock()
	s.added++
	s.mu.Unlock()
	return s.MemoryStore.Add(ctx, r)
}

func (s *spyStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.added
}

// fleetConfig is the notes server plus purge_notes (destructive, always
// approved) and a SharedState hook that hands out sh and records what it
// was given.
func fleetConfig(r *ran, sh serve.Shared, got *serve.SharedStateParams) serve.Config {
	cfg := notesConfig(r)
	notes := cfg.Tools
	cfg.Approvers = approval.ReviewerRule{Scopes: []string{"notes:approve"}}
	cfg.Tools = func(srv *mcpkit.Server) error {
		if err := notes(srv); err != nil {
			return err
		}
		return mcpkit.AddTool(srv, mcpkit.Tool{
			Name: "purge_notes", Description: "Delete every note.",
			Policy: mcpkit.Policy{Risk: mcpkit.Destructive, Scopes: []string{scopeWrite}},
		}, func(context.Context, struct{}) (note, error) {
			r.inc("purge_notes")
			return note{ID: "n0"}, nil
		})
	}
	cfg.SharedState = func(_ context.Context, p serve.SharedStateParams) (serve.Shared, error) {
		if got != nil {
			*got = p
		}
		return sh, nil
	}
	return cfg
}

var alice = mcpkit.Identity{Subject: "alice", Scopes: []string{scopeRead, scopeWrite}, AuthMethod: "local"}

func newReplica(t *testing.T, cfg serve.Config, getenv func(string) string, args ...string) *serve.Server {
	t.Helper()
	args = append([]string{"-audit", filepath.Join(t.TempDir(), "a.jsonl")}, args...)
	s, err := serve.New(context.Background(), cfg, args, serve.IO{Stderr: io.Discard, Getenv: getenv})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// An in-client approval state is spent in the shared ReplayCache, not in
// the replica's memory: so a state is single use across the fleet.
func TestSharedStateSpendsApprovalStatesInTheSharedCache(t *testing.T) {
	var r ran
	replay := &spyReplay{}
	var got serve.SharedStateParams
	s := newReplica(t, fleetConfig(&r, serve.Shared{Replay: replay}, &got), fleetEnv, "-instance-id", "replica-a")
	assert.Equal(t, secretURL, got.URL, "the URL comes from $NOTES_SHARED_STATE")
	assert.Equal(t, "replica-a", got.Instance)

	cs := mcpkittest.NewHarness(t, s.MCP(), mcpkittest.WithIdentity(alice), mcpkittest.WithElicitApprove("")).Session
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "purge_notes", Arguments: map[string]any{}})
	require.NoError(t, err)
	require.False(t, res.IsError, mcpkittest.Text(res))
	assert.Equal(t, 1, r.get("purge_notes"))
	assert.Equal(t, 1, replay.count(), "the answered state was not spent in Shared.Replay")
}

// A state the shared cache has already seen (spent on another replica) is
// refused, and the tool does not run.
func TestSharedStateRefusesAStateSpentElsewhere(t *testing.T) {
	var r ran
	spent := approval.ReplayCache(replayFunc(func(context.Context, string, time.Time) (bool, error) { return false, nil }))
	s := newReplica(t, fleetConfig(&r, serve.Shared{Replay: spent}, nil), fleetEnv)
	cs := mcpkittest.NewHarness(t, s.MCP(), mcpkittest.WithIdentity(alice), mcpkittest.WithElicitApprove("")).Session
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "purge_notes", Arguments: map[string]any{}})
	require.NoError(t, err)
	require.True(t, res.IsError, "a spent state was accepted")
	assert.Equal(t, 0, r.get("purge_notes"))
}

// replayFunc adapts a function to approval.ReplayCache.
type replayFunc func(ctx context.Context, id string, until time.Time) (bool, error)

func (f replayFunc) Use(ctx context.Context, id string, until time.Time) (bool, error) {
	return f(ctx, id, until)
}

// Two replicas on one shared Limiter grant the limit once between them.
func TestSharedStateLimiterHoldsAcrossReplicas(t *testing.T) {
	var r ran
	sh := serve.Shared{Replay: &spyReplay{}, Limiter: must(ratelimit.NewMemory())}
	a := newReplica(t, fleetConfig(&r, sh, nil), fleetEnv, "-rate-limit", "read_only=1/h", "-approver", "deny")
	b := newReplica(t, fleetConfig(&r, sh, nil), fleetEnv, "-rate-limit", "read_only=1/h", "-approver", "deny")
	call := func(s *serve.Server) *mcp.CallToolResult {
		cs := mcpkittest.NewHarness(t, s.MCP(), mcpkittest.WithIdentity(alice)).Session
		res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_note", Arguments: map[string]any{"id": "n1"}})
		require.NoError(t, err)
		return res
	}
	require.False(t, call(a).IsError)
	res := call(b)
	require.True(t, res.IsError, "replica b granted the limit again")
	assert.Contains(t, mcpkittest.Text(res), "rate limit")
	assert.Equal(t, 1, r.get("get_note"))
}

// The console of a replica keeps its pending requests in Shared.Store.
func TestSharedStateConsoleUsesTheSharedStore(t *testing.T) {
	var r ran
	store := &spyStore{MemoryStore: approval.NewMemoryStore()}
	env := func(name string) string {
		if name == "NOTES_APPROVER_TOKENS" {
			return "bob=bob-token-0123456789 notes:approve"
		}
		return fleetEnv(name)
	}
	s := newReplica(t, fleetConfig(&r, serve.Shared{Replay: &spyReplay{}, Store: store}, nil), env,
		"-approver", "console", "-console", loopbacktest.FreeAddr(t))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cs := mcpkittest.NewHarness(t, s.MCP(), mcpkittest.WithIdentity(alice)).Session
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = cs.CallTool(ctx, &mcp.CallToolParams{Name: "purge_notes", Arguments: map[string]any{}})
	}()
	require.Eventually(t, func() bool { return store.count() == 1 }, 10*time.Second, 10*time.Millisecond,
		"the pending request did not reach Shared.Store")
	cancel()
	<-done
	assert.Equal(t, 0, r.get("purge_notes"))
}

func TestSharedStateConfigErrorsFailBeforeServing(t *testing.T) {
	var r ran
	called := false
	hook := func(err error) serve.SharedStateFunc {
		return func(context.Context, serve.SharedStateParams) (serve.Shared, error) {
			called = true
			return serve.Shared{}, err
		}
	}
	withReplay := func(context.Context, serve.SharedStateParams) (serve.Shared, error) {
		called = true
		return serve.Shared{Replay: &spyReplay{}}, nil
	}
	for _, tc := range []struct {
		name   string
		hook   serve.SharedStateFunc
		args   []string
		getenv func(string) string
		want   string
		called bool
	}{
		{name: "no hook, no flag", args: []string{"-shared-state", secretURL}, getenv: fleetEnv,
			want: "flag provided but not defined: -shared-state"},
		{name: "no shared approval keys", hook: withReplay, getenv: func(n string) string {
			if n == "NOTES_SHARED_STATE" {
				return secretURL
			}
			return ""
		}, called: true, want: "$NOTES_APPROVAL_KEYS is required with shared state"},
		{name: "bad instance id", hook: hook(nil), args: []string{"-instance-id", "../etc"}, getenv: fleetEnv,
			want: `-instance-id "../etc"`},
		{name: "no replay cache", hook: hook(nil), getenv: fleetEnv, called: true,
			want: "no Shared.Replay"},
		{name: "connection error naming the URL", hook: hook(errors.New("cannot connect to " + secretURL + ": password " + secretPassword + " rejected")),
			getenv: fleetEnv, called: true, want: "connecting to the shared state: cannot connect to [REDACTED]"},
		{name: "flag URL", hook: hook(errors.New("dial db.internal: password=" + secretPassword)),
			args: []string{"-shared-state", secretURL}, getenv: func(n string) string {
				if n == "NOTES_APPROVAL_KEYS" {
					return approvalKeys
				}
				return ""
			}, called: true, want: "connecting to the shared state: dial db.internal: password=[REDACTED]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			called = false
			cfg := notesConfig(&r)
			cfg.SharedState = tc.hook
			var logs bytes.Buffer
			_, err := serve.New(context.Background(), cfg, append([]string{"-audit", filepath.Join(t.TempDir(), "a.jsonl")}, tc.args...),
				serve.IO{Stderr: &logs, Getenv: tc.getenv})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Equal(t, tc.called, called, "whether the hook ran")
			if tc.hook != nil {
				assert.NotContains(t, err.Error(), secretPassword)
				assert.NotContains(t, logs.String(), secretPassword)
			}
		})
	}
}

// Without a URL a server with the hook runs alone, as before: the hook is
// not called, and -instance-id is still accepted.
func TestSharedStateWithoutURLRunsAlone(t *testing.T) {
	var r ran
	cfg := fleetConfig(&r, serve.Shared{}, nil)
	cfg.SharedState = func(context.Context, serve.SharedStateParams) (serve.Shared, error) {
		t.Error("the hook ran without a URL")
		return serve.Shared{}, nil
	}
	s := newReplica(t, cfg, noEnv, "-instance-id", "solo", "-approver", "deny")
	cs := mcpkittest.NewHarness(t, s.MCP(), mcpkittest.WithIdentity(alice)).Session
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_note", Arguments: map[string]any{"id": "n1"}})
	require.NoError(t, err)
	assert.False(t, res.IsError)
	assert.Contains(t, serve.FlagSet(cfg).Lookup("shared-state").Usage, "$NOTES_SHARED_STATE")
}

// While the shared limiter fails, read-only calls go on at this replica's
// share of the limit (-replicas) and the others are refused: the write
// does not run.
func TestSharedStateLimiterOutageKeepsReadsGoing(t *testing.T) {
	var r ran
	down := ratelimit.Func(func(context.Context, string, ratelimit.Limit) (ratelimit.Decision, error) {
		return ratelimit.Decision{}, errors.New("connection refused")
	})
	s := newReplica(t, fleetConfig(&r, serve.Shared{Replay: &spyReplay{}, Limiter: down}, nil), fleetEnv,
		"-rate-limit", "read_only=4/h,write=10/h", "-replicas", "2", "-approver", "deny")
	cs := mcpkittest.NewHarness(t, s.MCP(), mcpkittest.WithIdentity(alice)).Session
	call := func(tool string, args map[string]any) *mcp.CallToolResult {
		res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: tool, Arguments: args})
		require.NoError(t, err)
		return res
	}
	for i := range 2 {
		require.False(t, call("get_note", map[string]any{"id": "n1"}).IsError, "read %d refused while the limiter is down", i)
	}
	assert.True(t, call("get_note", map[string]any{"id": "n1"}).IsError, "the third read exceeded this replica's half of 4/h")
	res := call("add_note", map[string]any{"text": "x"})
	assert.True(t, res.IsError, "a write went through an unreachable limiter")
	assert.Equal(t, 0, r.get("add_note"))
	assert.Equal(t, 2, r.get("get_note"))

	_, err := serve.New(context.Background(), fleetConfig(&r, serve.Shared{Replay: &spyReplay{}}, nil), []string{"-replicas", "0"},
		serve.IO{Stderr: io.Discard, Getenv: fleetEnv})
	require.ErrorContains(t, err, "-replicas 0")
}

// Only in-client approval needs the shared keys: a replica that refuses
// or sends approvals to the console starts without them.
func TestSharedStateWithoutKeysServesWithoutInClientApproval(t *testing.T) {
	var r ran
	env := func(n string) string {
		if n == "NOTES_SHARED_STATE" {
			return secretURL
		}
		return ""
	}
	s := newReplica(t, fleetConfig(&r, serve.Shared{Replay: &spyReplay{}}, nil), env, "-approver", "deny")
	cs := mcpkittest.NewHarness(t, s.MCP(), mcpkittest.WithIdentity(alice)).Session
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "purge_notes", Arguments: map[string]any{}})
	require.NoError(t, err)
	assert.True(t, res.IsError)
	assert.Equal(t, 0, r.get("purge_notes"))
}

// A console whose pending requests live in the shared store seals them
// with the fleet's approval keys: without keys, -approver console refuses
// to start (a database writer could otherwise approve calls).
func TestSharedStateConsoleRequiresApprovalKeys(t *testing.T) {
	var r ran
	cfg := fleetConfig(&r, serve.Shared{Replay: &spyReplay{}, Store: approval.NewMemoryStore()}, nil)
	env := func(n string) string {
		switch n {
		case "NOTES_SHARED_STATE":
			return secretURL
		case "NOTES_APPROVER_TOKENS":
			return "bob=bob-token-0123456789 notes:approve"
		}
		return ""
	}
	_, err := serve.New(context.Background(), cfg, []string{"-audit", filepath.Join(t.TempDir(), "a.jsonl"), "-approver", "console", "-console", loopbacktest.FreeAddr(t)},
		serve.IO{Stderr: io.Discard, Getenv: env})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "$NOTES_APPROVAL_KEYS is required for the approval console with shared state")
	assert.Equal(t, 0, r.get("purge_notes"))
}
