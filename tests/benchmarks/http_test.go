package benchmarks

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/transport"
)

// benchToken is the static token the mcpkit variants authenticate; it
// carries the scope the benchmark tool needs.
const benchToken = "bench-token-0123456789abcdef"

// BenchmarkHTTP is tool calls per second over streamable HTTP on 127.0.0.1
// with 1, 8 and 64 concurrent clients, stateless JSON and stateful: the
// bare SDK (mcp.AddTool behind mcp.StreamableHTTPHandler), mcpkit behind
// transport.Handler with static-token auth and no middleware, and mcpkit
// with static-token auth and the full chain. One op is every client making
// callsPerClient calls at once, so ns/op (and x-bare) compare equal work;
// calls/s is the throughput, x-bare the cost over the bare SDK (throughput
// ratio = 1/x-bare).
func BenchmarkHTTP(b *testing.B) {
	modes := []struct {
		name      string
		stateless bool
	}{{"stateless_json", true}, {"stateful", false}}
	for _, mode := range modes {
		for _, clients := range []int{1, 8, 64} {
			var r ratio
			prefix := fmt.Sprintf("%s/clients=%d/", mode.name, clients)
			b.Run(prefix+"a=bare-sdk", func(b *testing.B) {
				// One server for every request, as the mcpkit variant has.
				srv := bareServer(b, 1)
				h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv },
					&mcp.StreamableHTTPOptions{Stateless: mode.stateless, JSONResponse: mode.stateless})
				mux := http.NewServeMux()
				mux.Handle("/mcp", h)
				runHTTP(b, mux, clients, "", &r, true)
			})
			b.Run(prefix+"b=mcpkit", func(b *testing.B) {
				runHTTP(b, kitHandler(b, mode.stateless, false), clients, benchToken, &r, false)
			})
			b.Run(prefix+"c=mcpkit-full-chain", func(b *testing.B) {
				runHTTP(b, kitHandler(b, mode.stateless, true), clients, benchToken, &r, false)
			})
		}
	}
}

// callsPerClient keeps one op bounded: at 1,000 calls/s even 64 clients
// finish an op in well under a second.
func callsPerClient(clients int) int {
	switch {
	case clients == 1:
		return 100
	case clients <= 8:
		return 25
	}
	return 5
}

// kitHandler is mcpkit's HTTP transport with static-token auth over the
// benchmark tool, with or without the full production chain.
func kitHandler(tb testing.TB, stateless, full bool) http.Handler {
	tb.Helper()
	st, err := transport.ParseStaticTokens([]byte(`{"` + benchToken + `": {"sub": "bench", "scopes": ["` + scope + `"]}}`))
	if err != nil {
		tb.Fatal(err)
	}
	srv := kitServer(tb, 1)
	if full {
		srv = kitServer(tb, 1, fullChain(tb, 1)...)
	}
	opts := []transport.Option{transport.WithAuthenticator(st)}
	if stateless {
		opts = append(opts, transport.WithStateless(), transport.WithJSONResponse())
	}
	h, err := transport.NewHandler(srv, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

// runHTTP serves h on 127.0.0.1, connects the clients (outside the timer)
// and times rounds in which every client makes callsPerClient calls.
func runHTTP(b *testing.B, h http.Handler, clients int, token string, r *ratio, bare bool) {
	per := callsPerClient(clients)
	round := httpRound(b, h, clients, per, token)
	b.ReportAllocs()
	b.ResetTimer()
	r.begin()
	for b.Loop() {
		if err := round(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*clients*per)/b.Elapsed().Seconds(), "calls/s")
	r.report(b, bare)
}

// httpRound serves h on 127.0.0.1 and connects the clients, and returns a
// round: every client making per calls at once.
func httpRound(tb testing.TB, h http.Handler, clients, per int, token string) func() error {
	ts := httptest.NewServer(h)
	// Enough idle connections for every client's requests (and, stateful,
	// its standalone SSE stream), so that no call pays for a TCP handshake.
	tr := &http.Transport{MaxIdleConns: 4 * clients, MaxIdleConnsPerHost: 4 * clients}
	hc := &http.Client{Transport: tr}
	if token != "" {
		hc.Transport = bearer{token: token, next: tr}
	}
	ctx := context.Background()
	sessions := make([]*mcp.ClientSession, clients)
	for i := range sessions {
		cs, err := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil).
			Connect(ctx, &mcp.StreamableClientTransport{Endpoint: ts.URL + "/mcp", HTTPClient: hc}, nil)
		if err != nil {
			tb.Fatal(err)
		}
		sessions[i] = cs
	}
	tb.Cleanup(func() {
		for _, cs := range sessions {
			_ = cs.Close()
		}
		tr.CloseIdleConnections()
		ts.Close()
	})
	params := &mcp.CallToolParams{Name: toolName(0), Arguments: args}
	return func() error {
		errs := make(chan error, clients)
		var wg sync.WaitGroup
		for _, cs := range sessions {
			wg.Go(func() {
				for range per {
					if err := callOK(cs, params); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		select {
		case err := <-errs:
			return err
		default:
			return nil
		}
	}
}

// bearer adds the token to every request.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (t bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+t.token)
	return t.next.RoundTrip(r)
}
