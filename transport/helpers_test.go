package transport_test

import (
	"context"
	"io"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

type echoIn struct {
	Text string `json:"text" jsonschema:"description=Text to echo,maxLength=100"`
}

type echoOut struct {
	Text    string   `json:"text" jsonschema:"description=The text"`
	Subject string   `json:"subject" jsonschema:"description=Who called"`
	Auth    string   `json:"auth" jsonschema:"description=How the caller was authenticated"`
	Scopes  []string `json:"scopes" jsonschema:"description=The caller's scopes"`
	Via     string   `json:"via" jsonschema:"description=Transport"`
	ReqID   string   `json:"request_id" jsonschema:"description=The JSON-RPC id of the call"`
}

// newTestServer has a public echo tool, a tool needing notes:read and one
// needing notes:admin. Calls counts handler runs. No gate is configured:
// the scope check is built in.
func newTestServer(t testing.TB, opts ...mcpkit.Option) (*mcpkit.Server, *int64Counter) {
	t.Helper()
	srv, err := mcpkit.NewServer(&mcp.Implementation{Name: "test", Version: "1.0.0"}, opts...)
	require.NoError(t, err)
	n := &int64Counter{}
	handler := func(ctx context.Context, in echoIn) (echoOut, error) {
		n.add()
		c, _ := mcpkit.CallFromContext(ctx)
		return echoOut{Text: in.Text, Subject: c.Identity.Subject, Auth: c.Identity.AuthMethod, Scopes: c.Identity.Scopes, Via: c.Identity.Transport, ReqID: c.RequestID}, nil
	}
	require.NoError(t, mcpkit.AddTool(srv, mcpkit.Tool{Name: "get_echo", Description: "Echo text.", Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Public: true}}, handler))
	require.NoError(t, mcpkit.AddTool(srv, mcpkit.Tool{Name: "get_note", Description: "Read a note.", Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Scopes: []string{"notes:read"}}}, handler))
	require.NoError(t, mcpkit.AddTool(srv, mcpkit.Tool{Name: "delete_note", Description: "Delete a note.", Policy: mcpkit.Policy{Risk: mcpkit.Destructive, Scopes: []string{"notes:admin"}}}, handler))
	return srv, n
}

type int64Counter struct{ v atomic.Int64 }

func (c *int64Counter) add()        { c.v.Add(1) }
func (c *int64Counter) load() int64 { return c.v.Load() }

func ioPipe() (*io.PipeReader, *io.PipeWriter) { return io.Pipe() }

// must returns v, panicking on err: for building values from options a
// test knows to be valid (constructors return their errors).
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
