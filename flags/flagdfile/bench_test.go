package flagdfile_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// benchServer is a server with n read-only tools, gated by the file
// provider (one targeting rule per tool) or not at all.
func benchServer(b *testing.B, n int, gated bool) *mcp.ClientSession {
	b.Helper()
	var gate mcpkit.Gate
	if gated {
		rules := `{"flags": {`
		for i := range n {
			if i > 0 {
				rules += ","
			}
			rules += fmt.Sprintf(`"tool.get_echo_%d": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off",
				"targeting": {"if": [{"or": [{"in": ["sre", {"var": "groups"}]}, {"ends_with": [{"var": "email"}, "@example.com"]}]}, "on", "off"]}}`, i)
		}
		rules += `}}`
		env := newFileEnv(b, rules)
		require.NoError(b, env.initErr)
		gate = newGate(b, env.client)
	}
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("get_echo_%d", i)
	}
	srv, _ := newServer(b, gate, mcpkit.Identity{Subject: "alice", Email: "alice@example.com", Groups: []string{"dev", "sre"}}, names...)
	return mcpkittest.NewHarness(b, srv).Session
}

// BenchmarkCall: one in-memory tools/call, with and without the gate.
func BenchmarkCall(b *testing.B) {
	for _, gated := range []bool{false, true} {
		b.Run(fmt.Sprintf("gated=%v", gated), func(b *testing.B) {
			cs := benchServer(b, 1, gated)
			params := &mcp.CallToolParams{Name: "get_echo_0", Arguments: map[string]any{"text": "hi"}}
			b.ReportAllocs()
			for b.Loop() {
				res, err := cs.CallTool(context.Background(), params)
				if err != nil || res.IsError {
					b.Fatal(err, res)
				}
			}
		})
	}
}

// BenchmarkList200: tools/list with 200 tools, with and without the gate.
func BenchmarkList200(b *testing.B) {
	for _, gated := range []bool{false, true} {
		b.Run(fmt.Sprintf("gated=%v", gated), func(b *testing.B) {
			cs := benchServer(b, 200, gated)
			b.ReportAllocs()
			for b.Loop() {
				res, err := cs.ListTools(context.Background(), nil)
				if err != nil || len(res.Tools) != 200 {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCheck: the gate alone, one decision.
func BenchmarkCheck(b *testing.B) {
	env := newFileEnv(b, `{"flags": {"tool.get_echo": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off",
		"targeting": {"if": [{"in": ["sre", {"var": "groups"}]}, "on", "off"]}}}}`)
	require.NoError(b, env.initErr)
	gate := newGate(b, env.client)
	c := &mcpkit.Call{Tool: &mcpkit.ToolInfo{Name: "get_echo", Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly}},
		Identity: mcpkit.Identity{Subject: "alice", Groups: []string{"sre"}}}
	b.ReportAllocs()
	for b.Loop() {
		if err := gate.Check(context.Background(), c); err != nil {
			b.Fatal(err)
		}
	}
}
