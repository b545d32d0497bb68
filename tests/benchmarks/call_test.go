package benchmarks

import (
	"context"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// BenchmarkCall is one typed tool call over in-memory transports: the bare
// SDK's mcp.AddTool, mcpkit with no middleware, and mcpkit with the full
// production chain.
func BenchmarkCall(b *testing.B) {
	var r ratio
	run := func(b *testing.B, s *mcp.Server, bare bool) {
		cs := session(b, s)
		ctx := context.Background()
		params := &mcp.CallToolParams{Name: toolName(0), Arguments: args}
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			res, err := cs.CallTool(ctx, params)
			if err != nil || res.IsError {
				b.Fatal(err, res)
			}
		}
		r.report(b, bare)
	}
	b.Run("a=bare-sdk", func(b *testing.B) { run(b, bareServer(b, 1), true) })
	b.Run("b=mcpkit", func(b *testing.B) { run(b, kitServer(b, 1).MCPServer(), false) })
	b.Run("c=mcpkit-full-chain", func(b *testing.B) { run(b, kitServer(b, 1, fullChain(b, 1)...).MCPServer(), false) })
}

// BenchmarkToolsList lists 10 and 500 tools: the bare SDK, and mcpkit with
// the flag and scope gates deciding each tool's visibility.
func BenchmarkToolsList(b *testing.B) {
	for _, n := range []int{10, 500} {
		var r ratio
		run := func(b *testing.B, s *mcp.Server, bare bool) {
			cs := session(b, s)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				res, err := cs.ListTools(ctx, nil)
				if err != nil || len(res.Tools) != n {
					b.Fatalf("%v: got %d tools", err, len(res.Tools))
				}
			}
			r.report(b, bare)
		}
		b.Run(sizeName(n)+"/a=bare-sdk", func(b *testing.B) { run(b, bareServer(b, n), true) })
		b.Run(sizeName(n)+"/c=mcpkit-gated", func(b *testing.B) { run(b, kitServer(b, n, fullChain(b, n)...).MCPServer(), false) })
	}
}

func sizeName(n int) string {
	if n == 10 {
		return "tools=10"
	}
	return "tools=500"
}
