package mcpkit_test

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// ticketServer has a read and a write tool and no gates configured: what a
// team writes when it forgets WithGates(ScopeGate()).
func ticketServer(t *testing.T, opts ...mcpkit.Option) (*mcpkit.Server, map[string]int) {
	t.Helper()
	ran := map[string]int{}
	s, err := mcpkit.NewServer(&mcp.Implementation{Name: "tickets", Version: "1"}, opts...)
	require.NoError(t, err)
	for _, tool := range []struct {
		name  string
		risk  mcpkit.Risk
		scope string
	}{{"get_ticket", mcpkit.ReadOnly, "tickets:read"}, {"update_ticket", mcpkit.Write, "tickets:write"}} {
		name := tool.name
		mcpkit.MustAddTool(s, mcpkit.Tool{Name: name, Description: "d.", Policy: mcpkit.Policy{Risk: tool.risk, Scopes: []string{tool.scope}}},
			func(context.Context, documented) (documented, error) { ran[name]++; return documented{}, nil })
	}
	return s, ran
}

var readOnlyCaller = mcpkit.Identity{Subject: "alice", Scopes: []string{"tickets:read"}, AuthMethod: "local", Transport: "stdio"}

func TestDeclaredScopesAreEnforcedWithoutWiring(t *testing.T) {
	s, ran := ticketServer(t, mcpkit.WithDefaultIdentity(readOnlyCaller))
	require.True(t, s.ScopesEnforced())
	cs := mcpkittest.NewHarness(t, s).Session
	assert.Equal(t, []string{"get_ticket"}, listNames(t, cs), "a tool whose scopes the caller lacks is not listed")

	res := call(t, cs, "update_ticket", map[string]any{"id": "1"})
	assert.True(t, res.IsError)
	assert.Equal(t, "tool update_ticket requires scope tickets:write, which your credentials do not grant", mcpkittest.Text(res))
	assert.Zero(t, ran["update_ticket"], "the handler of a tool whose scopes the caller lacks must not run")

	res = call(t, cs, "get_ticket", map[string]any{"id": "1"})
	assert.False(t, res.IsError, mcpkittest.Text(res))
	assert.Equal(t, 1, ran["get_ticket"])
}

func TestBuiltInScopeCheckRunsBeforeOtherGates(t *testing.T) {
	asked := 0
	flagLike := mcpkit.GateFunc(func(_ context.Context, c *mcpkit.Call) error {
		if c.Request != nil {
			asked++
		}
		return &mcpkit.Error{Code: mcpkit.CodeDeniedFlag, Message: "tool " + c.Tool.Name + " is switched off"}
	})
	s, _ := ticketServer(t, mcpkit.WithDefaultIdentity(readOnlyCaller), mcpkit.WithGates(flagLike))
	res := call(t, mcpkittest.NewHarness(t, s).Session, "update_ticket", map[string]any{"id": "1"})
	assert.Contains(t, mcpkittest.Text(res), "requires scope tickets:write", "a caller without the scope learns nothing from later gates")
	assert.Zero(t, asked)

	// Placed explicitly, the scope gate runs where it was put, once.
	s, _ = ticketServer(t, mcpkit.WithDefaultIdentity(readOnlyCaller), mcpkit.WithGates(flagLike, mcpkit.ScopeGate(), mcpkit.ScopeGate()))
	res = call(t, mcpkittest.NewHarness(t, s).Session, "update_ticket", map[string]any{"id": "1"})
	assert.Contains(t, mcpkittest.Text(res), "is switched off")
	assert.Equal(t, 1, asked)
}

func TestWithoutScopeEnforcementIsExplicitAndLoud(t *testing.T) {
	var logs bytes.Buffer
	s, ran := ticketServer(t, mcpkit.WithDefaultIdentity(readOnlyCaller), mcpkit.WithoutScopeEnforcement(),
		mcpkit.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	assert.False(t, s.ScopesEnforced())
	assert.Contains(t, logs.String(), "level=WARN")
	assert.Contains(t, logs.String(), "scope enforcement is OFF")

	cs := mcpkittest.NewHarness(t, s).Session
	assert.Equal(t, []string{"get_ticket", "update_ticket"}, listNames(t, cs))
	res := call(t, cs, "update_ticket", map[string]any{"id": "1"})
	assert.False(t, res.IsError, mcpkittest.Text(res))
	assert.Equal(t, 1, ran["update_ticket"])

	_, err := mcpkit.NewServer(&mcp.Implementation{Name: "t", Version: "1"},
		mcpkit.WithoutScopeEnforcement(), mcpkit.WithGates(mcpkit.ScopeGate()))
	assert.ErrorContains(t, err, "contradict")
	_, err = mcpkit.NewServer(&mcp.Implementation{Name: "t", Version: "1"}, mcpkit.WithGates(nil))
	assert.ErrorContains(t, err, "nil")
}
