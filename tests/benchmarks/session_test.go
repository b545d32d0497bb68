package benchmarks

import (
	"context"
	"runtime"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// BenchmarkIdleSession measures the heap held per connected, initialized,
// idle session: b.N sessions are opened and kept, and the heap growth is
// divided among them (reported as B/session).
func BenchmarkIdleSession(b *testing.B) {
	var r ratio
	run := func(b *testing.B, s *mcp.Server, bare bool) {
		ctx := context.Background()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		sessions := make([]*mcp.ClientSession, 0, b.N)
		servers := make([]*mcp.ServerSession, 0, b.N)
		for b.Loop() {
			ct, st := mcp.NewInMemoryTransports()
			ss, err := s.Connect(ctx, st, nil)
			if err != nil {
				b.Fatal(err)
			}
			cs, err := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil).Connect(ctx, ct, nil)
			if err != nil {
				b.Fatal(err)
			}
			sessions, servers = append(sessions, cs), append(servers, ss)
		}
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(len(sessions)), "B/session")
		r.report(b, bare)
		for i := range sessions {
			_ = sessions[i].Close()
			_ = servers[i].Close()
		}
	}
	b.Run("a=bare-sdk", func(b *testing.B) { run(b, bareServer(b, 5), true) })
	b.Run("c=mcpkit-full-chain", func(b *testing.B) { run(b, kitServer(b, 5, fullChain(b, 5)...).MCPServer(), false) })
}
