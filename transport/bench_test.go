package transport_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/transport"
)

// BenchmarkHTTPCalls measures tool calls per second over 127.0.0.1 through
// the mcpkit Handler (static-token auth, scope pre-check, Origin, limits)
// against the bare go-sdk StreamableHTTPHandler serving the same server.
func BenchmarkHTTPCalls(b *testing.B) {
	for _, mode := range []struct {
		name      string
		stateless bool
	}{{"stateless_json", true}, {"stateful", false}} {
		for _, layer := range []string{"bare_sdk", "mcpkit"} {
			b.Run(mode.name+"/"+layer, func(b *testing.B) {
				srv, _ := newTestServer(b)
				var h http.Handler
				if layer == "bare_sdk" {
					mux := http.NewServeMux()
					mux.Handle("/mcp", mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv.MCPServer() },
						&mcp.StreamableHTTPOptions{Stateless: mode.stateless, JSONResponse: mode.stateless}))
					h = mux
				} else {
					opts := []transport.Option{transport.WithAuthenticator(staticTokens(b))}
					if mode.stateless {
						opts = append(opts, transport.WithStateless(), transport.WithJSONResponse())
					}
					th, err := transport.NewHandler(srv, opts...)
					require.NoError(b, err)
					h = th
				}
				ts := httptest.NewServer(h)
				b.Cleanup(ts.Close) // after the client's Cleanup closes its streams
				cs := connectHTTP(b, ts.URL, aliceToken)
				params := &mcp.CallToolParams{Name: "get_echo", Arguments: map[string]any{"text": "hi"}}
				ctx := context.Background()
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					res, err := cs.CallTool(ctx, params)
					if err != nil || res.IsError {
						b.Fatal(err, res)
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
			})
		}
	}
}

// BenchmarkJWTVerify is the per-request cost of verifying a JWT with a warm
// JWKS cache, next to a static-token lookup.
func BenchmarkJWTVerify(b *testing.B) {
	rsaKey, ecKey := newRSASigner(b, "rsa-1"), newECSigner(b, "ec-1")
	jwks := newJWKSServer(b, rsaKey, ecKey)
	keys := must(transport.NewRemoteJWKS(jwks.URL))
	require.NoError(b, keys.Refresh(context.Background()))
	a := newJWT(b, keys)
	ctx := context.Background()
	for _, s := range []*signer{rsaKey, ecKey} {
		tok := s.token(b, goodClaims())
		b.Run(s.alg.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Authenticate(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("static_token", func(b *testing.B) {
		st := staticTokens(b)
		ctx := loopbackCtx()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := st.Authenticate(ctx, aliceToken); err != nil {
				b.Fatal(err)
			}
		}
	})
	_ = jwk.NewSet
}
