package mcpkit

import (
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/internal/wire"
)

// requestIDOf reads the id a transport stamped on the params.
func requestIDOf(p *mcp.CallToolParamsRaw) string {
	if p == nil || p.Meta == nil {
		return ""
	}
	id, _ := p.Meta[wire.MetaRequestID].(string)
	return id
}
