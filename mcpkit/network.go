package mcpkit

import (
	"context"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/internal/wire"
)

// Network is what a transport knows of the connection a request came over,
// for telemetry (network.transport, network.protocol.*, client.address,
// client.port). The SDK does not pass any of it to the server, so mcpkit's
// transports put it on the request's context and, on HTTP, on the
// auth.TokenInfo of each request; neither can be set by a client.
type Network struct {
	// Transport is "tcp" (HTTP) or "pipe" (stdio).
	Transport string
	// ProtocolName is "http" on HTTP, empty on stdio.
	ProtocolName string
	// ProtocolVersion is the HTTP version: "1.1", "2".
	ProtocolVersion string
	// ClientAddress and ClientPort are the peer of the connection (the
	// last proxy, if there is one: forwarding headers are the client's to
	// write and are not trusted).
	ClientAddress string
	ClientPort    int
}

// NetworkFor returns the connection req came over: the one its transport
// put on its TokenInfo (per HTTP request), else on ctx (per stateless
// request, or per session: the SDK derives a session's contexts from the
// request that opened it), else "pipe" for the stdio identity.
func NetworkFor(ctx context.Context, req mcp.Request) (Network, bool) {
	if req != nil {
		if extra := req.GetExtra(); extra != nil && extra.TokenInfo != nil {
			if n, ok := extra.TokenInfo.Extra[wire.TokenNetworkKey].(Network); ok {
				return n, true
			}
		}
	}
	if n, ok := ctx.Value(wire.NetworkContextKey{}).(Network); ok {
		return n, true
	}
	if id, ok := IdentityFromContext(ctx); ok && id.Transport == "stdio" {
		return Network{Transport: "pipe"}, true
	}
	return Network{}, false
}
