package transport_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/transport"
)

// Mount the MCP endpoint, its resource metadata and health checks on a
// team's existing mux.
func ExampleHandler_Register() {
	srv := mcpkit.MustNewServer(&mcp.Implementation{Name: "notes", Version: "1.0.0"}, mcpkit.WithGates(mcpkit.ScopeGate()))
	tokens, _ := transport.ParseStaticTokens([]byte(`{"dev-token-0123456789": {"sub": "alice", "scopes": ["notes:read"]}}`))
	h, err := transport.NewHandler(srv, transport.WithAuthenticator(tokens), transport.WithResource("https://notes.example.com/mcp"))
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/notes", func(w http.ResponseWriter, _ *http.Request) {})
	h.Register(mux)

	// A request without a token is told where to get one.
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader(`{}`)))
	fmt.Println(rec.Code, rec.Header().Get("WWW-Authenticate"))
	// Output: 401 Bearer resource_metadata="https://notes.example.com/.well-known/oauth-protected-resource/mcp"
}

// Serve one local user over stdio; here the input is two piped requests,
// both answered before end of input ends the server.
func ExampleServeStdio() {
	srv := mcpkit.MustNewServer(&mcp.Implementation{Name: "notes", Version: "1.0.0"})
	mcpkit.MustAddTool(srv, mcpkit.Tool{Name: "get_user", Description: "Who am I.", Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Public: true}},
		func(ctx context.Context, _ struct{}) (map[string]string, error) {
			c, _ := mcpkit.CallFromContext(ctx)
			return map[string]string{"subject": c.Identity.Subject}, nil
		})
	in := strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"sh","version":"1"}}}
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get_user","arguments":{}}}
`)
	var out strings.Builder
	_ = transport.ServeStdio(context.Background(), srv, transport.WithStdio(in, &out),
		transport.WithIdentity(mcpkit.Identity{Subject: "alice", AuthMethod: "local"}))
	fmt.Println(strings.Count(out.String(), "\n"), strings.Contains(out.String(), `{\"subject\":\"alice\"}`))
	// Output: 2 true
}
