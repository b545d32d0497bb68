package benchmarks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/transport"
)

// Incident is one row of a realistic tool result: the shape of the
// incidents example's list_incidents, with the prose, ids, timestamps,
// URLs and digests an incident record really carries (no secrets).
type Incident struct {
	ID         string   `json:"id" jsonschema:"description=Incident id"`
	Title      string   `json:"title" jsonschema:"description=One-line summary"`
	Service    string   `json:"service" jsonschema:"description=Affected service"`
	Severity   int      `json:"severity" jsonschema:"description=1 (critical) to 5 (low)"`
	Status     string   `json:"status" jsonschema:"description=Status"`
	CreatedAt  string   `json:"created_at" jsonschema:"description=When it was opened"`
	UpdatedAt  string   `json:"updated_at" jsonschema:"description=When it last changed"`
	Notes      []string `json:"notes" jsonschema:"description=Timeline notes"`
	Resolution string   `json:"resolution,omitempty" jsonschema:"description=How it was resolved"`
}

// Incidents is the payload tool's output.
type Incidents struct {
	Incidents []Incident `json:"incidents" jsonschema:"description=The incidents"`
	Total     int        `json:"total" jsonschema:"description=How many"`
}

// incidents returns about size bytes of JSON worth of incidents.
func incidents(size int) Incidents {
	services := []string{"billing", "api-gateway", "notifications", "inventory", "auth", "search"}
	var out Incidents
	for i := 0; ; i++ {
		s := services[i%len(services)]
		out.Incidents = append(out.Incidents, Incident{
			ID: fmt.Sprintf("INC-%d", 1001+i), Title: s + ": login failures spike after token refresh deploy",
			Service: s, Severity: 1 + i%5, Status: "acknowledged",
			CreatedAt: "2026-09-02T02:07:00Z", UpdatedAt: "2026-09-02T02:37:00Z",
			Notes: []string{
				"Spike in failed logins observed on " + s + "; password reset emails delayed.",
				fmt.Sprintf("Rolled back deploy 3f9c2b7e1d0a4c5b8e6f7a9b0c1d2e3f4a5b6c7d, see https://status.example.com/incidents/%d", i),
				"On-call alice@example.com acknowledged at 2026-09-02T02:11:00Z (trace 4bf92f3577b34da6a3ce929d0e0e4736).",
			},
			Resolution: "Mitigated by on-call; follow-up ticket filed.",
		})
		out.Total = len(out.Incidents)
		if b, _ := json.Marshal(out); len(b) >= size {
			return out
		}
	}
}

// payloadSizes are the result sizes measured: small, the example's
// list_incidents (20 incidents, about 6 KB), and large.
var payloadSizes = []struct {
	name  string
	bytes int
}{{"result=1KB", 1 << 10}, {"result=6KB", 6 << 10}, {"result=64KB", 64 << 10}}

// bareIncidents serves the payload with the bare SDK's mcp.AddTool, given
// the schemas mcpkit generates.
func bareIncidents(tb testing.TB, out Incidents) *mcp.Server {
	tb.Helper()
	info, _ := kitIncidents(tb, out).Tool(toolName(0))
	var inSchema, outSchema jsonschema.Schema
	if err := errors.Join(json.Unmarshal(info.InputSchema, &inSchema), json.Unmarshal(info.OutputSchema, &outSchema)); err != nil {
		tb.Fatal(err)
	}
	s := mcp.NewServer(&mcp.Implementation{Name: "bench", Version: "1"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: toolName(0), Description: "List incidents.", InputSchema: &inSchema, OutputSchema: &outSchema},
		func(_ context.Context, _ *mcp.CallToolRequest, _ In) (*mcp.CallToolResult, Incidents, error) {
			return nil, out, nil
		})
	return s
}

// kitIncidents serves the payload with mcpkit and opts.
func kitIncidents(tb testing.TB, out Incidents, opts ...mcpkit.Option) *mcpkit.Server {
	tb.Helper()
	s := mcpkit.MustNewServer(&mcp.Implementation{Name: "bench", Version: "1"}, opts...)
	mcpkit.MustAddTool(s, mcpkit.Tool{Name: toolName(0), Description: "List incidents.",
		Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Scopes: []string{scope}}},
		func(context.Context, In) (Incidents, error) { return out, nil })
	return s
}

// BenchmarkPayloadCall is one call returning a realistic result of 1, 6
// and 64 KB over in-memory transports: the bare SDK against mcpkit with the
// full production chain (audit of the whole result to the JSONL file with
// group commit, flags, scopes, validation, approval gate). The two run in
// alternating blocks of calls within one benchmark (interleave.go), and
// x-bare is mcpkit's time per call over the bare SDK's.
func BenchmarkPayloadCall(b *testing.B) {
	for _, size := range payloadSizes {
		out := incidents(size.bytes)
		b.Run(size.name, func(b *testing.B) {
			interleave(b, memoryBlock, [2]func() error{
				memoryBlockOf(b, bareIncidents(b, out)),
				memoryBlockOf(b, kitIncidents(b, out, fullChain(b, 1)...).MCPServer()),
			})
		})
	}
}

// memoryBlock is how many in-memory calls one variant makes before the
// other takes its turn: enough that reading the clocks and allocation
// counters between blocks costs under 0.1% of a block.
const memoryBlock = 10

// memoryBlockOf connects an in-memory client to s and returns a block:
// memoryBlock calls of the payload tool.
func memoryBlockOf(tb testing.TB, s *mcp.Server) func() error {
	cs := session(tb, s)
	params := &mcp.CallToolParams{Name: toolName(0), Arguments: args}
	return func() error {
		for range memoryBlock {
			if err := callOK(cs, params); err != nil {
				return err
			}
		}
		return nil
	}
}

// callOK makes one call and reports a transport or tool error.
func callOK(cs *mcp.ClientSession, params *mcp.CallToolParams) error {
	res, err := cs.CallTool(context.Background(), params)
	if err == nil && res.IsError {
		err = fmt.Errorf("tool error: %v", res.Content)
	}
	return err
}

// BenchmarkPayloadHTTP is calls per second over stateless streamable HTTP
// (JSON responses) on 127.0.0.1 with 1, 8 and 64 clients, each call
// returning a realistic 1, 6 or 64 KB result: the bare SDK's handler
// against mcpkit's (static-token auth) with the full production chain,
// in alternating rounds within one benchmark (interleave.go). A round is
// every client making callsPerClient calls at once. x-bare-calls/s is the
// throughput ratio (the goal is at least 0.95).
func BenchmarkPayloadHTTP(b *testing.B) {
	for _, size := range payloadSizes {
		out := incidents(size.bytes)
		for _, clients := range []int{1, 8, 64} {
			b.Run(fmt.Sprintf("%s/clients=%d", size.name, clients), func(b *testing.B) {
				srv := bareIncidents(b, out)
				bare := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv },
					&mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true})
				mux := http.NewServeMux()
				mux.Handle("/mcp", bare)
				st, err := transport.ParseStaticTokens([]byte(`{"` + benchToken + `": {"sub": "bench", "scopes": ["` + scope + `"]}}`))
				if err != nil {
					b.Fatal(err)
				}
				kit, err := transport.NewHandler(kitIncidents(b, out, fullChain(b, 1)...),
					transport.WithAuthenticator(st), transport.WithStateless(), transport.WithJSONResponse())
				if err != nil {
					b.Fatal(err)
				}
				per := callsPerClient(clients)
				interleave(b, clients*per, [2]func() error{
					httpRound(b, mux, clients, per, ""),
					httpRound(b, kit, clients, per, benchToken),
				})
			})
		}
	}
}
