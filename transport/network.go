package transport

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"

	"github.com/mcpkit-go/mcpkit/internal/wire"
	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// networkOf is what the connection says of r: TCP, the HTTP version, the
// peer address. Forwarding headers are not read: the client writes them.
func networkOf(r *http.Request) mcpkit.Network {
	n := mcpkit.Network{Transport: "tcp", ProtocolName: "http", ProtocolVersion: "1.1"}
	switch {
	case r.ProtoMajor >= 2:
		n.ProtocolVersion = strconv.Itoa(r.ProtoMajor)
	case r.ProtoMajor == 1:
		n.ProtocolVersion = fmt.Sprintf("1.%d", r.ProtoMinor)
	}
	if host, port, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		n.ClientAddress = host
		n.ClientPort, _ = strconv.Atoi(port)
	}
	return n
}

// withNetwork puts r's Network on its context, where the SDK's sessions
// pick it up (a stateless request's, a stateful session's first).
func withNetwork(r *http.Request) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), wire.NetworkContextKey{}, networkOf(r)))
}

// describe completes a rejection with what the request said of itself
// (method, JSON-RPC id, session, protocol version: the client's claims,
// which the audit package bounds and redacts), the answer sent and the
// connection. A refusal about a tool is a tools/call; otherwise the method
// is the Mcp-Method header's, when the client sent one.
func describe(r *http.Request, rej *Rejection, id *jsonrpc.ID, code int64, msg string) {
	rej.Code, rej.Message, rej.Network = code, msg, networkOf(r)
	rej.SessionID = r.Header.Get("Mcp-Session-Id")
	rej.ProtocolVersion = r.Header.Get("Mcp-Protocol-Version")
	if rej.Method == "" {
		rej.Method = r.Header.Get("Mcp-Method")
	}
	if rej.Tool != "" {
		rej.Method = "tools/call"
	}
	if id != nil && id.IsValid() {
		rej.RequestID = fmt.Sprint(id.Raw())
	}
}
