package mcpkit

import (
	"context"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// MaxClientInfo is the longest clientInfo name, version or title a server
// accepts, in bytes. Client info is a label that is copied into every audit
// record and span of the session; a client announcing a larger one is
// refused with invalid params rather than made to cost that much per call.
const MaxClientInfo = 256

// checkClientInfo refuses a request whose client info (initialize's
// clientInfo, or the _meta client info later protocol versions send with
// every request) has a field longer than MaxClientInfo. It returns the
// request's client info (nil for initialize), which the SDK decodes again
// from _meta at every read: the receiving middleware passes it on with
// withClientInfo so that the call reads it once.
func checkClientInfo(req mcp.Request) (*mcp.Implementation, error) {
	if ip, ok := req.GetParams().(*mcp.InitializeParams); ok && ip != nil {
		if err := oversizedClientInfo(ip.ClientInfo); err != nil {
			return nil, err
		}
	}
	if _, ok := req.(interface{ ClientInfo() *mcp.Implementation }); ok {
		ci := sdkClientInfo(req)
		return ci, oversizedClientInfo(ci)
	}
	return nil, nil
}

// clientInfoKey carries a request's client info as checkClientInfo read
// it, for that request only.
type clientInfoKey struct{}

type requestClientInfo struct {
	req mcp.Request
	ci  *mcp.Implementation
}

func withClientInfo(ctx context.Context, req mcp.Request, ci *mcp.Implementation) context.Context {
	return context.WithValue(ctx, clientInfoKey{}, requestClientInfo{req, ci})
}

// clientInfoOf is req's client info: as the receiving middleware read it
// for this very request, else read again.
func clientInfoOf(ctx context.Context, req mcp.Request) *mcp.Implementation {
	if v, ok := ctx.Value(clientInfoKey{}).(requestClientInfo); ok && v.req == req {
		return v.ci
	}
	return clientInfo(req)
}

func oversizedClientInfo(ci *mcp.Implementation) error {
	if ci == nil {
		return nil
	}
	for _, f := range [...]struct{ name, v string }{{"name", ci.Name}, {"version", ci.Version}, {"title", ci.Title}} {
		if len(f.v) > MaxClientInfo {
			return &jsonrpc.Error{
				Code:    jsonrpc.CodeInvalidParams,
				Message: fmt.Sprintf("clientInfo.%s is %d bytes; at most %d are accepted", f.name, len(f.v), MaxClientInfo),
			}
		}
	}
	return nil
}
