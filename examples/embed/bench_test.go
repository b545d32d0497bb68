package main

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// BenchmarkGetOrder reads one order from the same running service through
// the existing REST endpoint and through the MCP tool (auth, audit to the
// file and the OTel providers, scope gate, validation), one client each.
func BenchmarkGetOrder(b *testing.B) {
	st := startBenchService(b)
	b.Run("rest", func(b *testing.B) {
		client := keyClient(operatorKey)
		b.ReportAllocs()
		for b.Loop() {
			resp, err := client.Get(st.base + "/api/orders/ord_1002")
			if err != nil || resp.StatusCode != http.StatusOK {
				b.Fatal(err, resp.StatusCode)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
	b.Run("mcp", func(b *testing.B) {
		cs, err := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil).
			Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: st.base + "/mcp", HTTPClient: keyClient(operatorKey)}, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer cs.Close()
		params := &mcp.CallToolParams{Name: "get_order", Arguments: map[string]any{"id": "ord_1002"}}
		b.ReportAllocs()
		for b.Loop() {
			res, err := cs.CallTool(context.Background(), params)
			if err != nil || res.IsError {
				b.Fatal(err, mcpkittest.Text(res))
			}
		}
	})
}

func startBenchService(b *testing.B) *testService {
	b.Helper()
	st, err := newTestService(b.TempDir(), newMemoryOrders(), 5*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		st.cancel()
		<-st.done
		_ = st.tel.Shutdown(context.Background())
	})
	return st
}
