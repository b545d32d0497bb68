package transport_test

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/transport"
)

// The legacy HTTP+SSE transport, when asked for, authenticates like the
// streamable endpoint and runs the session's calls as the identity that
// opened the stream.
func TestLegacySSEAuthenticatesAndCarriesTheIdentity(t *testing.T) {
	ts, calls := serveHTTP(t, transport.WithAuthenticator(staticTokens(t)), transport.WithLegacySSE("/sse"))
	client := mcp.NewClient(&mcp.Implementation{Name: "sse-client", Version: "1"}, nil)
	cs, err := client.Connect(context.Background(), &mcp.SSEClientTransport{Endpoint: ts.URL + "/sse", HTTPClient: bearerClient(aliceToken)}, nil)
	require.NoError(t, err)
	defer cs.Close()
	lr, err := cs.ListTools(context.Background(), nil)
	require.NoError(t, err)
	var names []string
	for _, tool := range lr.Tools {
		names = append(names, tool.Name)
	}
	assert.ElementsMatch(t, []string{"get_echo", "get_note"}, names, "tools alice may not use are hidden")
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_note", Arguments: map[string]any{"text": "hi"}})
	require.NoError(t, err)
	got := echoResult(t, res)
	assert.Equal(t, "alice", got["subject"])
	assert.NotEmpty(t, got["request_id"])
	assert.EqualValues(t, 1, calls.load())

	resp, err := http.Get(ts.URL + "/sse")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("WWW-Authenticate"), "resource_metadata=")
}

// A session opened by one identity cannot be driven by another.
func TestLegacySSESessionIsBoundToItsOpener(t *testing.T) {
	ts, calls := serveHTTP(t, transport.WithAuthenticator(staticTokens(t)), transport.WithLegacySSE("/sse"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/sse", nil)
	require.NoError(t, err)
	resp, err := bearerClient(aliceToken).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var endpoint string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok && strings.Contains(data, "sessionid=") {
			endpoint = data
			break
		}
	}
	require.NotEmpty(t, endpoint, "the endpoint event")

	post := func(token, body string) int {
		r, err := http.NewRequest(http.MethodPost, ts.URL+endpoint, strings.NewReader(body))
		require.NoError(t, err)
		r.Header.Set("Content-Type", "application/json")
		res, err := bearerClient(token).Do(r)
		require.NoError(t, err)
		res.Body.Close()
		return res.StatusCode
	}
	call := `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"get_echo","arguments":{"text":"x"}}}`
	assert.Equal(t, http.StatusForbidden, post(bobToken, call), "another identity replaying the session id")
	assert.Zero(t, calls.load())
	assert.Equal(t, http.StatusAccepted, post(aliceToken, initLine), "the opener may use its session")
	// The same decode and checks as the streamable endpoint.
	assert.Equal(t, http.StatusForbidden, post(aliceToken, `{"jsonrpc":"2.0","id":10,"method":"tools\/call","params":{"name":"delete_note","arguments":{"text":"x"}}}`),
		"an escaped method does not skip the step-up 403")
	assert.Equal(t, http.StatusBadRequest, post(aliceToken, `{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":123}}`))
	assert.Zero(t, calls.load())
}

func TestLegacySSEIsOffUnlessAskedFor(t *testing.T) {
	ts, _ := serveHTTP(t, transport.WithAuthenticator(staticTokens(t)))
	resp, err := bearerClient(aliceToken).Get(ts.URL + "/sse")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	srv, _ := newTestServer(t)
	_, err = transport.NewHandler(srv, transport.WithAuthenticator(staticTokens(t)), transport.WithLegacySSE("/mcp"))
	assert.ErrorContains(t, err, "must start with / and differ")
}
