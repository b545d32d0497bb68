package transport_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/mcpkit-go/mcpkit/transport"
)

const initBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}`

// openSession initializes a stateful session with a raw POST and returns
// the response.
func openSession(t *testing.T, url, token string) *http.Response {
	t.Helper()
	resp := post(t, url+"/mcp", token, initBody, nil)
	_ = readBody(t, resp)
	return resp
}

// openSessions reads the mcpkit.transport.sessions metric.
func openSessions(t *testing.T, r *sdkmetric.ManualReader) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.Collect(context.Background(), &rm))
	var n int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "mcpkit.transport.sessions" {
				continue
			}
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				n += dp.Value
			}
		}
	}
	return n
}

// Finding 4: one token cannot open sessions without bound. Past the
// per-identity bound it gets 429, past the server's bound everyone gets
// 503, both with Retry-After; a closed session frees its slot; the count is
// a metric.
func TestSessionsAreBoundedPerIdentityAndInTotal(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	g := serveGuarded(t, transport.WithMaxSessionsPerIdentity(3), transport.WithMaxSessions(5),
		transport.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))))
	var alice []string
	for range 3 {
		resp := openSession(t, g.url, aliceToken)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.NotEmpty(t, resp.Header.Get("Mcp-Session-Id"))
		alice = append(alice, resp.Header.Get("Mcp-Session-Id"))
	}
	resp := openSession(t, g.url, aliceToken)
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.NotEmpty(t, resp.Header.Get("Retry-After"))
	assert.Empty(t, resp.Header.Get("Mcp-Session-Id"), "no session was opened")

	// Alice's sessions still work.
	resp = post(t, g.url+"/mcp", aliceToken, `{"jsonrpc":"2.0","id":2,"method":"ping"}`,
		map[string]string{"Mcp-Session-Id": alice[0], "Mcp-Protocol-Version": "2025-06-18"})
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	for range 2 {
		require.Equal(t, http.StatusOK, openSession(t, g.url, bobToken).StatusCode)
	}
	resp = openSession(t, g.url, adminToken)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "the server is full")
	assert.NotEmpty(t, resp.Header.Get("Retry-After"))
	assert.EqualValues(t, 5, openSessions(t, reader))

	// Closing a session frees its slot.
	req, err := http.NewRequest(http.MethodDelete, g.url+"/mcp", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+aliceToken)
	req.Header.Set("Mcp-Session-Id", alice[0])
	del, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = del.Body.Close()
	require.Equal(t, http.StatusNoContent, del.StatusCode)
	require.Eventually(t, func() bool { return openSessions(t, reader) == 4 }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, http.StatusOK, openSession(t, g.url, aliceToken).StatusCode)

	g.mu.Lock()
	var statuses []int
	for _, r := range g.rejected {
		statuses = append(statuses, r.Status)
	}
	g.mu.Unlock()
	assert.Equal(t, []int{429, 503}, statuses, "refusals reach the reject hook")
}

// A request that does not keep a session (no initialize) takes no slot
// for longer than itself, and idle sessions are evicted, freeing theirs.
func TestSessionSlotsAreGivenBack(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	g := serveGuarded(t, transport.WithMaxSessionsPerIdentity(1), transport.WithSessionTimeout(300*time.Millisecond),
		transport.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))))
	for range 3 {
		resp := post(t, g.url+"/mcp", aliceToken, `{"jsonrpc":"2.0","id":2,"method":"ping"}`, nil)
		_ = readBody(t, resp)
	}
	require.Equal(t, http.StatusOK, openSession(t, g.url, aliceToken).StatusCode)
	assert.Equal(t, http.StatusTooManyRequests, openSession(t, g.url, aliceToken).StatusCode)
	require.Eventually(t, func() bool { return openSessions(t, reader) == 0 }, 5*time.Second, 20*time.Millisecond,
		"the idle session is evicted")
	assert.Equal(t, http.StatusOK, openSession(t, g.url, aliceToken).StatusCode)
}

// Legacy SSE streams are sessions too and count against the same bounds.
func TestLegacySSEStreamsCountAsSessions(t *testing.T) {
	g := serveGuarded(t, transport.WithLegacySSE("/sse"), transport.WithMaxSessionsPerIdentity(1))
	client := mcp.NewClient(&mcp.Implementation{Name: "sse-client", Version: "1"}, nil)
	cs, err := client.Connect(context.Background(), &mcp.SSEClientTransport{Endpoint: g.url + "/sse", HTTPClient: bearerClient(aliceToken)}, nil)
	require.NoError(t, err)
	defer cs.Close()
	_, err = client.Connect(context.Background(), &mcp.SSEClientTransport{Endpoint: g.url + "/sse", HTTPClient: bearerClient(aliceToken)}, nil)
	require.Error(t, err)
	assert.Equal(t, http.StatusTooManyRequests, openSession(t, g.url, aliceToken).StatusCode)
	_ = cs.Close()
	require.Eventually(t, func() bool { return openSession(t, g.url, aliceToken).StatusCode == http.StatusOK }, 5*time.Second, 20*time.Millisecond)
}

func TestSessionOptionsAreValidated(t *testing.T) {
	srv, _ := newTestServer(t)
	for _, o := range []transport.Option{transport.WithMaxSessions(0), transport.WithMaxSessionsPerIdentity(-1),
		transport.WithSessionTimeout(0), transport.WithBodyReadTimeout(0)} {
		_, err := transport.NewHandler(srv, transport.WithAuthenticator(staticTokens(t)), o)
		require.Error(t, err)
		assert.True(t, strings.Contains(err.Error(), "must be positive"), err.Error())
	}
}

// A client that ends its session (DELETE, 204) may open the next one at
// once: the slot is given back before the DELETE is answered, so the
// reopen is not refused (429, a refusal on the record) for a session that
// is already gone.
func TestEndedSessionFreesItsSlotBeforeTheDeleteIsAnswered(t *testing.T) {
	g := serveGuarded(t, transport.WithMaxSessionsPerIdentity(1))
	for i := range 40 {
		resp := openSession(t, g.url, aliceToken)
		require.Equal(t, http.StatusOK, resp.StatusCode, "open #%d", i+1)
		req, err := http.NewRequest(http.MethodDelete, g.url+"/mcp", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+aliceToken)
		req.Header.Set("Mcp-Session-Id", resp.Header.Get("Mcp-Session-Id"))
		del, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = del.Body.Close()
		require.Equal(t, http.StatusNoContent, del.StatusCode)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	assert.Empty(t, g.rejected, "no session was refused")
}
