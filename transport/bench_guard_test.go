package transport_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/transport"
)

// BenchmarkUnauthenticatedLargeBody measures the server's work for a POST
// of ~4 MiB of tiny tools/call messages without a token: process CPU per
// request (cpu-ms/op, user+system, client included) next to wall time.
// Authentication comes first, so the body should cost next to nothing.
func BenchmarkUnauthenticatedLargeBody(b *testing.B) {
	srv, _ := newTestServer(b)
	h, err := transport.NewHandler(srv, transport.WithAuthenticator(staticTokens(b)))
	require.NoError(b, err)
	ts := httptest.NewServer(h)
	defer ts.Close()
	body := tinyCalls(52_000, "x")
	cpu := func() time.Duration {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	start := cpu()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/mcp", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(b, err)
		_ = resp.Body.Close()
		require.Equal(b, http.StatusUnauthorized, resp.StatusCode)
	}
	b.ReportMetric(float64(cpu()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}
