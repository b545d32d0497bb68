package transport_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
	"github.com/mcpkit-go/mcpkit/transport"
)

// A server built with no gates at all still enforces declared scopes, on
// both transports.

func TestStdioLocalScopesAreEnforcedWithoutGates(t *testing.T) {
	srv, calls := newTestServer(t)
	var out bytes.Buffer
	in := strings.NewReader(initLine + "\n" +
		`{"jsonrpc":"2.0","id":2,"method":"tools/list"}` + "\n" +
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"delete_note","arguments":{"text":"x"}}}` + "\n")
	require.NoError(t, transport.ServeStdio(context.Background(), srv, transport.WithStdio(in, &out), transport.WithLocalScopes("notes:read")))
	got := responses(t, out.String())
	list, _ := json.Marshal(got["2"]["result"])
	assert.Contains(t, string(list), `"get_note"`)
	assert.NotContains(t, string(list), `"delete_note"`, "a tool needing notes:admin is listed to a notes:read user")
	call, _ := json.Marshal(got["3"]["result"])
	assert.Contains(t, string(call), `"isError":true`)
	assert.Contains(t, string(call), "requires scope notes:admin")
	assert.Zero(t, calls.load(), "the handler of a tool whose scope the user lacks ran")
}

func TestHTTPScopesAreEnforcedWithoutGates(t *testing.T) {
	ts, calls := serveHTTP(t, transport.WithAuthenticator(staticTokens(t)))
	cs := connectHTTP(t, ts.URL, aliceToken)
	res, err := cs.ListTools(context.Background(), nil)
	require.NoError(t, err)
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
	}
	assert.ElementsMatch(t, []string{"get_echo", "get_note"}, names)
	_, err = cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "delete_note", Arguments: map[string]any{"text": "x"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "requires scope notes:admin")
	assert.Zero(t, calls.load())
}

func TestHTTPWithoutScopeEnforcementNeitherHidesNorRefuses(t *testing.T) {
	srv, calls := newTestServer(t, mcpkit.WithoutScopeEnforcement())
	h, err := transport.NewHandler(srv, transport.WithAuthenticator(staticTokens(t)))
	require.NoError(t, err)
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	cs := connectHTTP(t, ts.URL, aliceToken)
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "delete_note", Arguments: map[string]any{"text": "x"}})
	require.NoError(t, err, "the opt-out also turns off the transport's 403, so list and call agree")
	assert.False(t, res.IsError, mcpkittest.Text(res))
	assert.EqualValues(t, 1, calls.load())
}

// TestHTTPScopeCheckIgnoresChangesToReturnedToolInfo: the 403 pre-check
// and the list filter read the server's own policy, not a copy a caller
// was handed.
func TestHTTPScopeCheckIgnoresChangesToReturnedToolInfo(t *testing.T) {
	srv, calls := newTestServer(t)
	info, ok := srv.Tool("delete_note")
	require.True(t, ok)
	info.Policy.Scopes[0] = "notes:read"
	info.Policy.Scopes = nil
	for _, info := range srv.Tools() {
		info.Policy.Scopes = nil
	}
	h, err := transport.NewHandler(srv, transport.WithAuthenticator(staticTokens(t)))
	require.NoError(t, err)
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)

	resp := post(t, ts.URL+"/mcp", aliceToken, `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"delete_note","arguments":{"text":"x"}}}`, nil)
	assert.Equal(t, 403, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `scope="notes:admin"`)
	cs := connectHTTP(t, ts.URL, aliceToken)
	res, err := cs.ListTools(context.Background(), nil)
	require.NoError(t, err)
	for _, tool := range res.Tools {
		assert.NotEqual(t, "delete_note", tool.Name)
	}
	assert.Zero(t, calls.load())
}
