package transport_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/internal/wire"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/transport"
)

// The JSON-RPC id of a tools/call reaches Call.RequestID over stdio, and a
// client's own _meta survives next to it.
func TestStdioSuppliesTheRequestID(t *testing.T) {
	srv, _ := newTestServer(t)
	var out bytes.Buffer
	call := `{"jsonrpc":"2.0","id":"req-7","method":"tools/call","params":{"_meta":{"progressToken":"p1"},"name":"get_echo","arguments":{"text":"hi"}}}`
	err := transport.ServeStdio(context.Background(), srv,
		transport.WithStdio(strings.NewReader(initLine+"\n"+call+"\n"), &out),
		transport.WithIdentity(mcpkit.Identity{Subject: "alice", AuthMethod: "local"}))
	require.NoError(t, err)
	got := responses(t, out.String())
	res, _ := json.Marshal(got[`"req-7"`]["result"])
	assert.Contains(t, string(res), `\"request_id\":\"req-7\"`)
}

// Over HTTP, stateful and stateless, the go-sdk client's id reaches the
// handler; a client that plants the key itself is overwritten.
func TestHTTPSuppliesTheRequestID(t *testing.T) {
	for _, mode := range []struct {
		name string
		opts []transport.Option
	}{
		{"stateful", nil},
		{"stateless json", []transport.Option{transport.WithStateless(), transport.WithJSONResponse()}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			ts, _ := serveHTTP(t, append(mode.opts, transport.WithAuthenticator(staticTokens(t)))...)
			cs := connectHTTP(t, ts.URL, aliceToken)
			res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{
				Meta: mcp.Meta{wire.MetaRequestID: "forged"}, Name: "get_echo", Arguments: map[string]any{"text": "hi"}})
			require.NoError(t, err)
			got := echoResult(t, res)
			assert.NotEmpty(t, got["request_id"])
			assert.NotEqual(t, "forged", got["request_id"])
		})
	}
}
