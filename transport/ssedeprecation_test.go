package transport_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/transport"
)

// TestLegacySSEIsOffByDefaultAndWarnsWhenEnabled: no /sse route unless
// asked for; asking logs a deprecation warning naming the release that
// removes it.
func TestLegacySSEIsOffByDefaultAndWarnsWhenEnabled(t *testing.T) {
	srv, _ := newTestServer(t)
	var quiet bytes.Buffer
	h, err := transport.NewHandler(srv, transport.WithAuthenticator(staticTokens(t)), transport.WithLogger(slog.New(slog.NewTextHandler(&quiet, nil))))
	require.NoError(t, err)
	assert.NotContains(t, quiet.String(), "deprecated")
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	resp, err := bearerClient(aliceToken).Get(ts.URL + "/sse")
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "no legacy SSE endpoint by default")

	var out bytes.Buffer
	_, err = transport.NewHandler(srv, transport.WithAuthenticator(staticTokens(t)), transport.WithLegacySSE("/sse"),
		transport.WithLogger(slog.New(slog.NewTextHandler(&out, nil))))
	require.NoError(t, err)
	assert.Contains(t, out.String(), "level=WARN")
	assert.Contains(t, out.String(), "deprecated")
	assert.Contains(t, out.String(), "v0.3.0")
}
