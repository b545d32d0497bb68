package mcpkit_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

func scopedServer(t *testing.T, id mcpkit.Identity, extra ...mcpkit.Option) (*mcpkit.Server, map[string]int) {
	t.Helper()
	ran := map[string]int{}
	opts := append([]mcpkit.Option{mcpkit.WithGates(mcpkit.ScopeGate()), mcpkit.WithDefaultIdentity(id)}, extra...)
	s := mcpkit.MustNewServer(&mcp.Implementation{Name: "t", Version: "1"}, opts...)
	for _, tool := range []struct {
		name  string
		risk  mcpkit.Risk
		scope string
	}{{"get_thing", mcpkit.ReadOnly, "read"}, {"update_thing", mcpkit.Write, "write"}, {"delete_thing", mcpkit.Destructive, "admin"}} {
		name := tool.name
		mcpkit.MustAddTool(s, mcpkit.Tool{Name: name, Description: "d.", Policy: mcpkit.Policy{Risk: tool.risk, Scopes: []string{tool.scope}}},
			func(context.Context, documented) (documented, error) { ran[name]++; return documented{}, nil })
	}
	return s, ran
}

func listNames(t *testing.T, cs *mcp.ClientSession) []string {
	t.Helper()
	lr, err := cs.ListTools(context.Background(), nil)
	require.NoError(t, err)
	var names []string
	for _, tool := range lr.Tools {
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	return names
}

func TestScopeGateHidesAndRefusesWithTheSameDecision(t *testing.T) {
	s, ran := scopedServer(t, mcpkit.Identity{Subject: "bob", Scopes: []string{"read", "write"}})
	cs := mcpkittest.NewHarness(t, s).Session
	assert.Equal(t, []string{"get_thing", "update_thing"}, listNames(t, cs))

	res := call(t, cs, "delete_thing", map[string]any{"id": "1"})
	assert.True(t, res.IsError)
	assert.Equal(t, "tool delete_thing requires scope admin, which your credentials do not grant", mcpkittest.Text(res))
	assert.Zero(t, ran["delete_thing"], "a hidden tool is never callable by guessing its name")

	res = call(t, cs, "update_thing", map[string]any{"id": "1"})
	assert.False(t, res.IsError, mcpkittest.Text(res))
	assert.Equal(t, 1, ran["update_thing"])
}

func TestIdentityFromContextWinsOverDefault(t *testing.T) {
	s, _ := scopedServer(t, mcpkit.Identity{Subject: "nobody"})
	var got mcpkit.Identity
	mcpkit.MustAddTool(s, mcpkit.Tool{Name: "get_me", Description: "d.", Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Public: true}},
		func(ctx context.Context, _ documented) (documented, error) {
			c, _ := mcpkit.CallFromContext(ctx)
			got = c.Identity
			return documented{}, nil
		})
	cs := mcpkittest.NewHarness(t, s, mcpkittest.WithClientInfo("test-client", "1.2.3")).Session
	call(t, cs, "get_me", map[string]any{"id": "1"})
	assert.Equal(t, "nobody", got.Subject)
	assert.Equal(t, "test-client", got.ClientName)
	assert.Equal(t, "1.2.3", got.ClientVersion)

	resolver := mcpkit.WithIdentityResolver(func(ctx context.Context, req mcp.Request) (mcpkit.Identity, error) {
		return mcpkit.Identity{Subject: "carol", Scopes: []string{"read"}}, nil
	})
	s2, _ := scopedServer(t, mcpkit.Identity{Subject: "nobody"}, resolver)
	assert.Equal(t, []string{"get_thing"}, listNames(t, mcpkittest.NewHarness(t, s2).Session))
}

func TestFailingIdentityResolverRefusesEverything(t *testing.T) {
	resolver := mcpkit.WithIdentityResolver(func(ctx context.Context, req mcp.Request) (mcpkit.Identity, error) {
		return mcpkit.Identity{}, errors.New("token store down")
	})
	s, ran := scopedServer(t, mcpkit.Identity{Subject: "x", Scopes: []string{"read"}}, resolver)
	cs := mcpkittest.NewHarness(t, s).Session
	assert.Empty(t, listNames(t, cs))
	res := call(t, cs, "get_thing", map[string]any{"id": "1"})
	assert.True(t, res.IsError)
	assert.Contains(t, mcpkittest.Text(res), "could not establish who you are")
	assert.NotContains(t, mcpkittest.Text(res), "token store")
	assert.Zero(t, ran["get_thing"])
}

func TestFailingOrPanickingGateFailsClosed(t *testing.T) {
	broken := mcpkit.GateFunc(func(ctx context.Context, c *mcpkit.Call) error {
		if c.Tool.Name == "get_thing" {
			panic("gate bug")
		}
		return errors.New("provider unreachable")
	})
	var outcome mcpkit.Outcome
	record := mcpkit.WithMiddleware(func(next mcpkit.Handler) mcpkit.Handler {
		return func(ctx context.Context, c *mcpkit.Call) (*mcp.CallToolResult, error) {
			res, err := next(ctx, c)
			outcome = c.Outcome()
			return res, err
		}
	})
	s, ran := scopedServer(t, mcpkit.Identity{Subject: "x", Scopes: []string{"read", "write", "admin"}}, mcpkit.WithGates(broken), record)
	cs := mcpkittest.NewHarness(t, s).Session
	assert.Empty(t, listNames(t, cs), "a gate that errors or panics hides the tool")

	res := call(t, cs, "update_thing", map[string]any{"id": "1"})
	assert.True(t, res.IsError)
	assert.Contains(t, mcpkittest.Text(res), "policy check could not be completed")
	assert.NotContains(t, mcpkittest.Text(res), "provider unreachable")
	assert.Equal(t, mcpkit.OutcomeUnavailable, outcome)

	res = call(t, cs, "get_thing", map[string]any{"id": "1"})
	assert.True(t, res.IsError)
	assert.Equal(t, mcpkit.OutcomePanic, outcome)
	assert.Zero(t, ran["get_thing"]+ran["update_thing"])
}

func TestPanickingIdentityResolverRefuses(t *testing.T) {
	resolver := mcpkit.WithIdentityResolver(func(ctx context.Context, req mcp.Request) (mcpkit.Identity, error) {
		panic("resolver bug")
	})
	s, ran := scopedServer(t, mcpkit.Identity{Subject: "x", Scopes: []string{"read"}}, resolver)
	cs := mcpkittest.NewHarness(t, s).Session
	assert.Empty(t, listNames(t, cs))
	res := call(t, cs, "get_thing", map[string]any{"id": "1"})
	assert.True(t, res.IsError)
	assert.Contains(t, mcpkittest.Text(res), "could not establish who you are")
	assert.Zero(t, ran["get_thing"])
}
