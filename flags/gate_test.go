package flags_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/open-feature/go-sdk/openfeature"
	"github.com/open-feature/go-sdk/openfeature/isolated"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/flags"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// With no flags defined, read-only tools are on and write and destructive
// tools off; the defaults are configurable.
func TestMissingFlagUsesRiskDefault(t *testing.T) {
	client, _ := memClient(t, nil)
	srv, rec := newServer(t, newGate(t, client), mcpkit.Identity{Subject: "alice"})
	cs := connect(t, srv, "", nil)
	assert.Equal(t, []string{"get_echo"}, toolNames(t, cs))
	res := callTool(t, cs, "delete_echo")
	assert.True(t, res.IsError)
	var den *flags.Denial
	require.ErrorAs(t, rec.lastCall().Err(), &den)
	assert.Equal(t, flags.ReasonMissing, den.Reason)
	assert.Equal(t, "tool.delete_echo", den.FlagKey)

	gate := newGate(t, client, flags.WithDefault(mcpkit.ReadOnly, false), flags.WithDefault(mcpkit.Write, true))
	srv2, _ := newServer(t, gate, mcpkit.Identity{Subject: "alice"})
	assert.Equal(t, []string{"create_echo"}, toolNames(t, connect(t, srv2, "", nil)))
}

// The policy's FlagKey replaces tool.<name>, and a server-wide flag gates
// every tool.
func TestPolicyFlagKeyAndServerFlag(t *testing.T) {
	assert.Equal(t, "tool.get_echo", flags.FlagKey(&mcpkit.ToolInfo{Name: "get_echo"}))
	assert.Equal(t, "custom", flags.FlagKey(&mcpkit.ToolInfo{Name: "get_echo", Policy: mcpkit.Policy{FlagKey: "custom"}}))

	client, _ := memClient(t, boolFlags(map[string]bool{"server": false, "tool.create_echo": true}))
	srv, rec := newServer(t, newGate(t, client, flags.WithServerFlag("server")), mcpkit.Identity{Subject: "alice"})
	cs := connect(t, srv, "", nil)
	assert.Empty(t, toolNames(t, cs))
	assert.True(t, callTool(t, cs, "get_echo").IsError)
	var den *flags.Denial
	require.ErrorAs(t, rec.lastCall().Err(), &den)
	assert.Equal(t, "server", den.FlagKey)

	// A configured server flag that is missing is off.
	srv2, _ := newServer(t, newGate(t, client, flags.WithServerFlag("absent")), mcpkit.Identity{Subject: "alice"})
	assert.Empty(t, toolNames(t, connect(t, srv2, "", nil)))
}

// The provider sees the caller and the tool: the targeting key is the
// subject, and every documented attribute arrives, for tools/list and for
// tools/call alike.
func TestEvaluationContextReachesProvider(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]openfeature.FlattenedContext{}
	p := &funcProvider{evalFlag: func(_ context.Context, flag string, fc openfeature.FlattenedContext) openfeature.BoolResolutionDetail {
		mu.Lock()
		seen[flag] = fc
		mu.Unlock()
		return openfeature.BoolResolutionDetail{Value: fc[openfeature.TargetingKey] == "alice"}
	}}
	id := mcpkit.Identity{Subject: "alice", Email: "alice@example.com", Groups: []string{"dev", "sre"}, Transport: "memory"}
	gate := newGate(t, clientFor(t, p))
	srv, _ := newServer(t, gate, id)
	cs := connect(t, srv, "", nil)
	assert.ElementsMatch(t, []string{"get_echo", "create_echo", "delete_echo"}, toolNames(t, cs))
	require.False(t, callTool(t, cs, "delete_echo").IsError)

	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, openfeature.FlattenedContext{
		openfeature.TargetingKey: "alice",
		flags.AttrEmail:          "alice@example.com",
		flags.AttrGroups:         []any{"dev", "sre"},
		flags.AttrClientName:     "flags-test-client",
		flags.AttrClientVersion:  "2.0.0",
		flags.AttrTool:           "delete_echo",
		flags.AttrRisk:           "destructive",
		flags.AttrKind:           "tool",
		flags.AttrTransport:      "memory",
	}, seen["tool.delete_echo"])
	assert.Equal(t, "read_only", seen["tool.get_echo"][flags.AttrRisk])

	// Another caller is refused by the same rule.
	srv2, _ := newServer(t, gate, mcpkit.Identity{Subject: "bob"})
	assert.Empty(t, toolNames(t, connect(t, srv2, "", nil)))
}

// A provider that reports a change makes the server tell its clients, on
// the 2026-07-28 and legacy protocols, without a reconnect; stop detaches.
func TestNotifyChanges(t *testing.T) {
	client, p := memClient(t, boolFlags(map[string]bool{"tool.create_echo": false}))
	gate := newGate(t, client)
	srv, _ := newServer(t, gate, mcpkit.Identity{Subject: "alice"})
	stop := gate.NotifyChanges(srv)

	var modern, legacy atomic.Int64
	csModern := connect(t, srv, "", func() { modern.Add(1) })
	csLegacy := connect(t, srv, "2025-11-25", func() { legacy.Add(1) })
	assert.Equal(t, []string{"get_echo"}, toolNames(t, csModern))
	assert.Equal(t, []string{"get_echo"}, toolNames(t, csLegacy))

	p.UpdateFlags(boolFlags(map[string]bool{"tool.create_echo": true}))
	require.Eventually(t, func() bool { return modern.Load() > 0 && legacy.Load() > 0 }, 5*time.Second, 10*time.Millisecond,
		"both clients receive notifications/tools/list_changed")
	assert.ElementsMatch(t, []string{"get_echo", "create_echo"}, toolNames(t, csModern))
	res := callTool(t, csLegacy, "create_echo")
	assert.False(t, res.IsError, mcpkittest.Text(res))

	// Detached: a later change is applied but no longer announced.
	stop()
	m, l := modern.Load(), legacy.Load()
	p.UpdateFlags(boolFlags(map[string]bool{"tool.create_echo": false}))
	require.Eventually(t, func() bool { return len(toolNames(t, csModern)) == 1 }, 5*time.Second, 10*time.Millisecond)
	time.Sleep(100 * time.Millisecond) // the SDK debounces list_changed by 10ms
	assert.Equal(t, m, modern.Load())
	assert.Equal(t, l, legacy.Load())
}

// funcProvider is an OpenFeature provider whose boolean evaluation is a
// function, for providers that misbehave or record what they are asked.
type funcProvider struct {
	openfeature.NoopProvider
	eval     func(ctx context.Context) openfeature.BoolResolutionDetail
	evalFlag func(ctx context.Context, flag string, fc openfeature.FlattenedContext) openfeature.BoolResolutionDetail
}

func (p *funcProvider) BooleanEvaluation(ctx context.Context, flag string, _ bool, fc openfeature.FlattenedContext) openfeature.BoolResolutionDetail {
	if p.evalFlag != nil {
		return p.evalFlag(ctx, flag, fc)
	}
	return p.eval(ctx)
}

func (p *funcProvider) Metadata() openfeature.Metadata { return openfeature.Metadata{Name: "func"} }

func clientFor(t *testing.T, p openfeature.FeatureProvider) *openfeature.Client {
	t.Helper()
	api := isolated.NewAPI()
	require.NoError(t, api.SetProviderAndWait(context.Background(), p))
	t.Cleanup(func() { _ = api.Shutdown(context.Background()) })
	return api.NewClient()
}

func check(gate *flags.Gate, risk mcpkit.Risk) error {
	c := &mcpkit.Call{Tool: &mcpkit.ToolInfo{Name: "get_echo", Policy: mcpkit.Policy{Risk: risk}}, Identity: mcpkit.Identity{Subject: "alice"}}
	return gate.Check(context.Background(), c)
}

func denialOf(t *testing.T, err error) *flags.Denial {
	t.Helper()
	require.Error(t, err)
	var me *mcpkit.Error
	require.ErrorAs(t, err, &me)
	assert.Equal(t, mcpkit.CodeDeniedFlag, me.Code)
	var den *flags.Denial
	require.ErrorAs(t, err, &den)
	return den
}

func TestFaultyProvidersFailClosed(t *testing.T) {
	t.Run("panics", func(t *testing.T) {
		gate := newGate(t, clientFor(t, &funcProvider{eval: func(context.Context) openfeature.BoolResolutionDetail { panic("provider bug") }}))
		den := denialOf(t, check(gate, mcpkit.ReadOnly))
		assert.Equal(t, flags.ReasonPanic, den.Reason)
		assert.Contains(t, den.Error(), "provider bug")
	})
	t.Run("errors", func(t *testing.T) {
		gate := newGate(t, clientFor(t, &funcProvider{eval: func(context.Context) openfeature.BoolResolutionDetail {
			return openfeature.BoolResolutionDetail{ProviderResolutionDetail: openfeature.ProviderResolutionDetail{
				ResolutionError: openfeature.NewGeneralResolutionError("backend down"), Reason: openfeature.ErrorReason}}
		}}))
		den := denialOf(t, check(gate, mcpkit.ReadOnly))
		assert.Equal(t, flags.ReasonError, den.Reason)
		assert.Contains(t, den.Error(), "backend down")
	})
	t.Run("true with an error is still off", func(t *testing.T) {
		gate := newGate(t, clientFor(t, &funcProvider{eval: func(context.Context) openfeature.BoolResolutionDetail {
			return openfeature.BoolResolutionDetail{Value: true, ProviderResolutionDetail: openfeature.ProviderResolutionDetail{
				ResolutionError: openfeature.NewParseErrorResolutionError("bad rule")}}
		}}))
		assert.Error(t, check(gate, mcpkit.ReadOnly))
	})
	t.Run("not ready", func(t *testing.T) {
		api := isolated.NewAPI()
		t.Cleanup(func() { _ = api.Shutdown(context.Background()) })
		blocked := make(chan struct{})
		t.Cleanup(func() { close(blocked) })
		// SetProvider returns at once; Init is still running, so the
		// provider is NOT_READY.
		require.NoError(t, api.SetProvider(context.Background(), &slowInit{wait: blocked}))
		den := denialOf(t, check(newGate(t, api.NewClient()), mcpkit.ReadOnly))
		assert.Equal(t, flags.ReasonNotReady, den.Reason)
	})
}

// slowInit is a provider whose initialisation waits for a channel.
type slowInit struct {
	openfeature.NoopProvider
	wait chan struct{}
}

func (p *slowInit) Init(openfeature.EvaluationContext) error { <-p.wait; return nil }
func (p *slowInit) Shutdown()                                {}

// A provider that hangs costs at most the timeout, then fails closed; once
// too many evaluations are stuck, the gate stops starting new ones.
func TestHangingProviderIsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		p := &funcProvider{eval: func(context.Context) openfeature.BoolResolutionDetail {
			<-release // ignores its context, as a buggy provider would
			return openfeature.BoolResolutionDetail{Value: true}
		}}
		api := isolated.NewAPI()
		require.NoError(t, api.SetProviderAndWait(context.Background(), p))
		gate := newGate(t, api.NewClient(), flags.WithTimeout(50*time.Millisecond))

		start := time.Now()
		den := denialOf(t, check(gate, mcpkit.ReadOnly))
		assert.Equal(t, flags.ReasonTimeout, den.Reason)
		assert.Equal(t, 50*time.Millisecond, time.Since(start))

		for range 20 {
			_ = check(gate, mcpkit.ReadOnly)
		}
		start = time.Now()
		den = denialOf(t, check(gate, mcpkit.ReadOnly))
		assert.Equal(t, flags.ReasonTimeout, den.Reason)
		assert.Contains(t, den.Error(), "unresponsive")
		assert.Zero(t, time.Since(start), "no new evaluation is started while the provider is stuck")

		close(release)
		synctest.Wait()
		assert.NoError(t, check(gate, mcpkit.ReadOnly), "a provider that answers again is used again")
		_ = api.Shutdown(context.Background())
	})
}

func TestDenialMessageIsClientSafe(t *testing.T) {
	gate := newGate(t, clientFor(t, &funcProvider{eval: func(context.Context) openfeature.BoolResolutionDetail {
		return openfeature.BoolResolutionDetail{ProviderResolutionDetail: openfeature.ProviderResolutionDetail{
			ResolutionError: openfeature.NewGeneralResolutionError("dial tcp 10.0.0.7:8013: secret-host")}}
	}}))
	err := check(gate, mcpkit.ReadOnly)
	assert.NotContains(t, err.Error(), "secret-host")
	assert.Equal(t, "tool get_echo is unavailable: feature flag tool.get_echo could not be evaluated, so the call was refused", err.Error())
}
