package mcpkit_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// benchIn and benchOut are shared by the bare and the mcpkit variants so
// both do the same work. The bare SDK cannot read invopop's tags, so it is
// given mcpkit's generated schemas explicitly: both validate against the
// same constraints.
type benchIn struct {
	Service string `json:"service" jsonschema:"description=Service name,maxLength=64"`
	Limit   int    `json:"limit" jsonschema:"description=Page size,minimum=1,maximum=100"`
	Status  string `json:"status,omitempty" jsonschema:"description=Status filter,enum=open,enum=resolved"`
}

type benchOut struct {
	Service string `json:"service" jsonschema:"description=Service name"`
	Count   int    `json:"count" jsonschema:"description=How many"`
}

func benchHandler(_ context.Context, in benchIn) (benchOut, error) {
	return benchOut{Service: in.Service, Count: in.Limit}, nil
}

func newKit(b *testing.B, opts ...mcpkit.Option) *mcpkit.Server {
	b.Helper()
	s := mcpkit.MustNewServer(&mcp.Implementation{Name: "bench", Version: "1"}, opts...)
	mcpkit.MustAddTool(s, mcpkit.Tool{Name: "list_things", Description: "List things.",
		Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Public: true}}, benchHandler)
	return s
}

func passThrough(next mcpkit.Handler) mcpkit.Handler {
	return func(ctx context.Context, c *mcpkit.Call) (*mcp.CallToolResult, error) { return next(ctx, c) }
}

func benchSession(b *testing.B, s *mcp.Server) *mcp.ClientSession {
	b.Helper()
	ctx := context.Background()
	ct, st := mcp.NewInMemoryTransports()
	ss, err := s.Connect(ctx, st, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = ss.Close() })
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cs.Close() })
	return cs
}

// BenchmarkToolCall calls the same typed tool over in-memory transports
// (a) registered with the bare go-sdk mcp.AddTool, (b) with mcpkit and no
// middleware, (c) with mcpkit and three pass-through middlewares. Variants b
// and c report x-bare, their time per call over variant a's in this run.
func BenchmarkToolCall(b *testing.B) {
	args := map[string]any{"service": "checkout", "limit": 20, "status": "open"}
	var bareNs float64
	run := func(b *testing.B, s *mcp.Server, ratio bool) {
		cs := benchSession(b, s)
		ctx := context.Background()
		params := &mcp.CallToolParams{Name: "list_things", Arguments: args}
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			res, err := cs.CallTool(ctx, params)
			if err != nil || res.IsError {
				b.Fatal(err, res)
			}
		}
		ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		if !ratio {
			bareNs = ns
		} else if bareNs > 0 {
			b.ReportMetric(ns/bareNs, "x-bare")
		}
	}
	b.Run("a=bare-sdk", func(b *testing.B) {
		kit := newKit(b)
		info, _ := kit.Tool("list_things")
		var inSchema, outSchema jsonschema.Schema
		if err := errors.Join(json.Unmarshal(info.InputSchema, &inSchema), json.Unmarshal(info.OutputSchema, &outSchema)); err != nil {
			b.Fatal(err)
		}
		s := mcp.NewServer(&mcp.Implementation{Name: "bench", Version: "1"}, nil)
		mcp.AddTool(s, &mcp.Tool{Name: "list_things", Description: "List things.", InputSchema: &inSchema, OutputSchema: &outSchema},
			func(ctx context.Context, _ *mcp.CallToolRequest, in benchIn) (*mcp.CallToolResult, benchOut, error) {
				out, err := benchHandler(ctx, in)
				return nil, out, err
			})
		run(b, s, false)
	})
	b.Run("b=mcpkit", func(b *testing.B) { run(b, newKit(b).MCPServer(), true) })
	b.Run("c=mcpkit+3mw", func(b *testing.B) {
		run(b, newKit(b, mcpkit.WithMiddleware(passThrough, passThrough), mcpkit.WithInnerMiddleware(passThrough)).MCPServer(), true)
	})
}
