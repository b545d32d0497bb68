package flags_test

import (
	"context"
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
	env := newFileEnv(t, `{"flags": {}}`)
	require.NoError(t, env.initErr)

	srv, rec := newServer(t, must(flags.NewGate(env.client)), mcpkit.Identity{Subject: "alice"})
	cs := mcpkittest.NewHarness(t, srv).Session
	assert.Equal(t, []string{"get_echo"}, toolNames(t, cs))
	res := callTool(t, cs, "delete_echo")
	assert.True(t, res.IsError)
	var den *flags.Denial
	require.ErrorAs(t, rec.lastCall().Err(), &den)
	assert.Equal(t, flags.ReasonMissing, den.Reason)
	assert.Equal(t, "tool.delete_echo", den.FlagKey)

	gate := must(flags.NewGate(env.client, flags.WithDefault(mcpkit.ReadOnly, false), flags.WithDefault(mcpkit.Write, true)))
	srv2, _ := newServer(t, gate, mcpkit.Identity{Subject: "alice"})
	assert.Equal(t, []string{"create_echo"}, toolNames(t, mcpkittest.NewHarness(t, srv2).Session))
}

// The policy's FlagKey replaces tool.<name>, and a server-wide flag gates
// every tool.
func TestPolicyFlagKeyAndServerFlag(t *testing.T) {
	assert.Equal(t, "tool.get_echo", flags.FlagKey(&mcpkit.ToolInfo{Name: "get_echo"}))
	assert.Equal(t, "custom", flags.FlagKey(&mcpkit.ToolInfo{Name: "get_echo", Policy: mcpkit.Policy{FlagKey: "custom"}}))

	env := newFileEnv(t, boolFlags(map[string]bool{"server": false, "tool.create_echo": true}))
	require.NoError(t, env.initErr)
	srv, rec := newServer(t, must(flags.NewGate(env.client, flags.WithServerFlag("server"))), mcpkit.Identity{Subject: "alice"})
	cs := mcpkittest.NewHarness(t, srv).Session
	assert.Empty(t, toolNames(t, cs))
	assert.True(t, callTool(t, cs, "get_echo").IsError)
	var den *flags.Denial
	require.ErrorAs(t, rec.lastCall().Err(), &den)
	assert.Equal(t, "server", den.FlagKey)

	// A configured server flag that is missing is off.
	srv2, _ := newServer(t, must(flags.NewGate(env.client, flags.WithServerFlag("absent"))), mcpkit.Identity{Subject: "alice"})
	assert.Empty(t, toolNames(t, mcpkittest.NewHarness(t, srv2).Session))
}

// The evaluation context carries the caller and the tool: targeting on
// subject, email, groups, client, risk and transport all work.
func TestEvaluationContextTargeting(t *testing.T) {
	rule := func(cond string) string {
		return `{"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off", "targeting": {"if": [` + cond + `, "on", "off"]}}`
	}
	env := newFileEnv(t, `{"flags": {
		"tool.get_echo": `+rule(`{"and": [{"==": [{"var": "targetingKey"}, "alice"]}, {"ends_with": [{"var": "email"}, "@example.com"]}, {"==": [{"var": "tool"}, "get_echo"]}, {"==": [{"var": "risk"}, "read_only"]}]}`)+`,
		"tool.create_echo": `+rule(`{"and": [{"in": ["sre", {"var": "groups"}]}, {"==": [{"var": "client_name"}, "flags-test-client"]}, {"sem_ver": [{"var": "client_version"}, ">=", "2.0.0"]}, {"==": [{"var": "transport"}, "memory"]}]}`)+`,
		"tool.delete_echo": `+rule(`{"==": [{"var": "risk"}, "write"]}`)+`
	}}`)
	require.NoError(t, env.initErr)
	gate := must(flags.NewGate(env.client))

	client := mcpkittest.WithClientInfo("flags-test-client", "2.0.0")
	alice := mcpkit.Identity{Subject: "alice", Email: "alice@example.com", Groups: []string{"dev", "sre"}, Transport: "memory"}
	srv, _ := newServer(t, gate, alice)
	assert.ElementsMatch(t, []string{"get_echo", "create_echo"}, toolNames(t, mcpkittest.NewHarness(t, srv, client).Session))

	bob := mcpkit.Identity{Subject: "bob", Email: "bob@example.com", Groups: []string{"dev"}, Transport: "memory"}
	srv2, _ := newServer(t, gate, bob)
	assert.Empty(t, toolNames(t, mcpkittest.NewHarness(t, srv2, client).Session))
}

// funcProvider is an OpenFeature provider whose boolean evaluation is a
// function, for providers that misbehave.
type funcProvider struct {
	openfeature.NoopProvider
	eval func(ctx context.Context) openfeature.BoolResolutionDetail
}

func (p *funcProvider) BooleanEvaluation(ctx context.Context, _ string, _ bool, _ openfeature.FlattenedContext) openfeature.BoolResolutionDetail {
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
		gate := must(flags.NewGate(clientFor(t, &funcProvider{eval: func(context.Context) openfeature.BoolResolutionDetail { panic("provider bug") }})))
		den := denialOf(t, check(gate, mcpkit.ReadOnly))
		assert.Equal(t, flags.ReasonPanic, den.Reason)
		assert.Contains(t, den.Error(), "provider bug")
	})
	t.Run("errors", func(t *testing.T) {
		gate := must(flags.NewGate(clientFor(t, &funcProvider{eval: func(context.Context) openfeature.BoolResolutionDetail {
			return openfeature.BoolResolutionDetail{ProviderResolutionDetail: openfeature.ProviderResolutionDetail{
				ResolutionError: openfeature.NewGeneralResolutionError("backend down"), Reason: openfeature.ErrorReason}}
		}})))
		den := denialOf(t, check(gate, mcpkit.ReadOnly))
		assert.Equal(t, flags.ReasonError, den.Reason)
		assert.Contains(t, den.Error(), "backend down")
	})
	t.Run("true with an error is still off", func(t *testing.T) {
		gate := must(flags.NewGate(clientFor(t, &funcProvider{eval: func(context.Context) openfeature.BoolResolutionDetail {
			return openfeature.BoolResolutionDetail{Value: true, ProviderResolutionDetail: openfeature.ProviderResolutionDetail{
				ResolutionError: openfeature.NewParseErrorResolutionError("bad rule")}}
		}})))
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
		den := denialOf(t, check(must(flags.NewGate(api.NewClient())), mcpkit.ReadOnly))
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
		gate := must(flags.NewGate(api.NewClient(), flags.WithTimeout(50*time.Millisecond)))

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
	gate := must(flags.NewGate(clientFor(t, &funcProvider{eval: func(context.Context) openfeature.BoolResolutionDetail {
		return openfeature.BoolResolutionDetail{ProviderResolutionDetail: openfeature.ProviderResolutionDetail{
			ResolutionError: openfeature.NewGeneralResolutionError("dial tcp 10.0.0.7:8013: secret-host")}}
	}})))
	err := check(gate, mcpkit.ReadOnly)
	assert.NotContains(t, err.Error(), "secret-host")
	assert.Equal(t, "tool get_echo is unavailable: feature flag tool.get_echo could not be evaluated, so the call was refused", err.Error())
}
