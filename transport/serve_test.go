package transport_test

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
	"github.com/mcpkit-go/mcpkit/transport"
)

type waitIn struct {
	Millis int `json:"millis" jsonschema:"description=How long to work,minimum=0,maximum=5000"`
}

func TestServeShutsDownGracefullyLettingInFlightCallsFinish(t *testing.T) {
	srv, _ := newTestServer(t)
	started := make(chan struct{})
	require.NoError(t, mcpkit.AddTool(srv, mcpkit.Tool{Name: "run_work", Description: "Work a while.", Policy: mcpkit.Policy{Risk: mcpkit.Write, Public: true}},
		func(ctx context.Context, in waitIn) (echoOut, error) {
			close(started)
			time.Sleep(time.Duration(in.Millis) * time.Millisecond)
			return echoOut{Text: "done"}, nil
		}))
	h, err := transport.NewHandler(srv, transport.WithAuthenticator(staticTokens(t)), transport.WithStateless(), transport.WithJSONResponse())
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	base := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- transport.Serve(ctx, ln, h, transport.WithShutdownTimeout(5*time.Second)) }()

	cs := connectHTTP(t, base, aliceToken)
	result := make(chan *mcp.CallToolResult, 1)
	go func() {
		res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "run_work", Arguments: map[string]any{"millis": 300}})
		assert.NoError(t, err)
		result <- res
	}()
	<-started
	cancel()
	res := <-result
	require.NotNil(t, res)
	assert.False(t, res.IsError, mcpkittest.Text(res))
	assert.Contains(t, mcpkittest.Text(res), "done", "the in-flight call finished")
	select {
	case err := <-served:
		assert.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
	}
	_, err = http.Get(base + "/healthz")
	assert.Error(t, err, "the listener is closed")
}
