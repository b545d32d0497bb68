package audit_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

func benchFile(b *testing.B, opts ...audit.FileOption) {
	s, err := openFile(filepath.Join(b.TempDir(), "audit.jsonl"), append(opts, audit.WithMaxBytes(0))...)
	require.NoError(b, err)
	defer s.Close(context.Background())
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := rec(1)
		for pb.Next() {
			cp := *r
			if err := s.Write(context.Background(), &cp); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkFileSink measures records/s with group commit (fsync every
// 200ms) and with an fsync before each Write returns.
func BenchmarkFileSink(b *testing.B) {
	b.Run("group_commit", func(b *testing.B) { benchFile(b) })
	b.Run("fsync_each", func(b *testing.B) { benchFile(b, audit.WithSyncEachRecord()) })
}

type benchIn struct {
	A int `json:"a" jsonschema:"description=A number"`
}

type benchOut struct {
	B int `json:"b" jsonschema:"description=The number"`
}

func benchServer(b *testing.B, opts ...mcpkit.Option) *mcp.ClientSession {
	srv, err := mcpkit.NewServer(&mcp.Implementation{Name: "bench", Version: "1"}, opts...)
	require.NoError(b, err)
	mcpkit.MustAddTool(srv, mcpkit.Tool{Name: "get_number", Description: "Echo a number.", Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Public: true}},
		func(_ context.Context, in benchIn) (benchOut, error) { return benchOut{B: in.A}, nil })
	return mcpkittest.NewHarness(b, srv).Session
}

// BenchmarkCall compares an in-memory call with and without the audit
// middleware (writing to the group-commit file sink), in one run.
func BenchmarkCall(b *testing.B) {
	run := func(b *testing.B, cs *mcp.ClientSession) {
		b.ReportAllocs()
		args := map[string]any{"a": 1}
		b.ResetTimer()
		for b.Loop() {
			if _, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_number", Arguments: args}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("bare", func(b *testing.B) { run(b, benchServer(b)) })
	b.Run("audited", func(b *testing.B) {
		s, err := openFile(filepath.Join(b.TempDir(), "audit.jsonl"))
		require.NoError(b, err)
		defer s.Close(context.Background())
		run(b, benchServer(b, mcpkit.WithMiddleware(must(audit.Middleware(s)))))
	})
}
