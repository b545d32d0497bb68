package benchmarks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/open-feature/go-sdk/openfeature/isolated"
	"github.com/open-feature/go-sdk/openfeature/memprovider"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/flags"
	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// In and Out are the tool both variants serve.
type In struct {
	Service string `json:"service" jsonschema:"description=Service name,maxLength=64"`
	Limit   int    `json:"limit" jsonschema:"description=Page size,minimum=1,maximum=100"`
	Status  string `json:"status,omitempty" jsonschema:"description=Status filter,enum=open,enum=resolved"`
}

type Out struct {
	Service string `json:"service" jsonschema:"description=Service name"`
	Count   int    `json:"count" jsonschema:"description=How many"`
}

func handle(_ context.Context, in In) (Out, error) {
	return Out{Service: in.Service, Count: in.Limit}, nil
}

var args = map[string]any{"service": "checkout", "limit": 20, "status": "open"}

const scope = "things:read"

// identity holds the scope every benchmark tool needs.
var identity = mcpkit.Identity{Subject: "bench", Scopes: []string{scope}, AuthMethod: "static", Transport: "memory"}

func toolName(i int) string {
	if i == 0 {
		return "list_things"
	}
	return fmt.Sprintf("list_things_%d", i)
}

// bareServer registers n copies of the tool with the bare SDK, given the
// same schemas mcpkit generates, so both validate the same constraints.
func bareServer(tb testing.TB, n int) *mcp.Server {
	tb.Helper()
	kit := kitServer(tb, 1)
	info, _ := kit.Tool(toolName(0))
	var inSchema, outSchema jsonschema.Schema
	if err := errors.Join(json.Unmarshal(info.InputSchema, &inSchema), json.Unmarshal(info.OutputSchema, &outSchema)); err != nil {
		tb.Fatal(err)
	}
	s := mcp.NewServer(&mcp.Implementation{Name: "bench", Version: "1"}, nil)
	for i := range n {
		mcp.AddTool(s, &mcp.Tool{Name: toolName(i), Description: "List things.", InputSchema: &inSchema, OutputSchema: &outSchema},
			func(ctx context.Context, _ *mcp.CallToolRequest, in In) (*mcp.CallToolResult, Out, error) {
				out, err := handle(ctx, in)
				return nil, out, err
			})
	}
	return s
}

// kitServer registers n copies of the tool with mcpkit and opts. The caller
// holds the tool's scope: mcpkit checks declared scopes by default, so even
// the variant with no options pays for a scope check the bare SDK does not
// make (a slice lookup per call and per listed tool).
func kitServer(tb testing.TB, n int, opts ...mcpkit.Option) *mcpkit.Server {
	tb.Helper()
	opts = append([]mcpkit.Option{mcpkit.WithDefaultIdentity(identity)}, opts...)
	s := mcpkit.MustNewServer(&mcp.Implementation{Name: "bench", Version: "1"}, opts...)
	for i := range n {
		mcpkit.MustAddTool(s, mcpkit.Tool{Name: toolName(i), Description: "List things.",
			Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Scopes: []string{scope}}}, handle)
	}
	return s
}

// fullChain is the production chain: audit to a hash-chained JSONL file
// with group commit, the flag gate on an in-memory OpenFeature provider,
// the scope gate, validation, and the approval gate (not required for a
// read-only tool).
func fullChain(tb testing.TB, n int) []mcpkit.Option {
	tb.Helper()
	ctx := context.Background()
	keys, _, err := audit.LoadOrCreateKeyFile(filepath.Join(tb.TempDir(), "audit.key"))
	if err != nil {
		tb.Fatal(err)
	}
	file, err := audit.Open(filepath.Join(tb.TempDir(), "audit.jsonl"), audit.WithKeyring(keys))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = file.Close(ctx) })
	defs := map[string]memprovider.InMemoryFlag{}
	for i := range n {
		key := "tool." + toolName(i)
		defs[key] = memprovider.InMemoryFlag{Key: key, State: memprovider.Enabled, DefaultVariant: "on", Variants: map[string]any{"on": true, "off": false}}
	}
	api := isolated.NewAPI()
	if err := api.SetProviderAndWait(ctx, memprovider.NewInMemoryProvider(defs)); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = api.Shutdown(ctx) })
	return []mcpkit.Option{
		mcpkit.WithDefaultIdentity(identity),
		mcpkit.WithMiddleware(must(audit.Middleware(file))),
		mcpkit.WithGates(must(flags.NewGate(api.NewClient())), mcpkit.ScopeGate()),
		mcpkit.WithInnerMiddleware(approval.MustNew(approval.AlwaysDeny("no approvals in benchmarks"))),
	}
}

// session connects an in-memory client to s.
func session(tb testing.TB, s *mcp.Server) *mcp.ClientSession {
	tb.Helper()
	ctx := context.Background()
	ct, st := mcp.NewInMemoryTransports()
	ss, err := s.Connect(ctx, st, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = ss.Close() })
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = cs.Close() })
	return cs
}

// ratio records the bare variant's ns/op and reports later variants'
// x-bare (time per op over the bare SDK's) and x-bare-calls/s (throughput
// over the bare SDK's, 1/x-bare) against it. It also reports cpu-ns/op,
// the process's CPU time (user + system, client and server together) per
// op, and x-bare-cpu: on a shared machine wall time counts time spent
// waiting for a core, CPU time counts only the work done.
type ratio struct {
	bareNs, bareCPU float64
	cpu0            time.Duration
}

// begin marks the start of the timed loop (after ResetTimer).
func (r *ratio) begin() { r.cpu0 = processCPU() }

func (r *ratio) report(b *testing.B, bare bool) {
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	cpu := -1.0
	if r.cpu0 > 0 {
		cpu = float64((processCPU() - r.cpu0).Nanoseconds()) / float64(b.N)
		b.ReportMetric(cpu, "cpu-ns/op")
		r.cpu0 = 0
	}
	if bare {
		r.bareNs, r.bareCPU = ns, cpu
		return
	}
	if r.bareNs > 0 {
		b.ReportMetric(ns/r.bareNs, "x-bare")
		b.ReportMetric(r.bareNs/ns, "x-bare-calls/s")
	}
	if r.bareCPU > 0 && cpu > 0 {
		b.ReportMetric(cpu/r.bareCPU, "x-bare-cpu")
	}
}

// processCPU is the CPU time the process has used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// must returns v, panicking on err: for building values from options a
// test knows to be valid (constructors return their errors).
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
