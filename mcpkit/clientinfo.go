package mcpkit

import (
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
// every request) has a field longer than MaxClientInfo.
func checkClientInfo(req mcp.Request) error {
	if ip, ok := req.GetParams().(*mcp.InitializeParams); ok && ip != nil {
		if err := oversizedClientInfo(ip.ClientInfo); err != nil {
			return err
		}
	}
	if cr, ok := req.(interface{ ClientInfo() *mcp.Implementation }); ok {
		return oversizedClientInfo(cr.ClientInfo())
	}
	return nil
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
