package mcpkit

import (
	"encoding/json"
	"reflect"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/internal/wire"
)

// sdkClientInfo is what the SDK's ServerRequest.ClientInfo returns for
// req: the _meta client info (as sent in process, or re-encoded from the
// decoded map and decoded into an Implementation), else the session's
// initialize params. The SDK decodes the re-encoded value with a JSON
// Decoder that allocates a 32 KiB buffer on every read; this decodes it
// the same way with wire.DecodeValue, which does not.
func sdkClientInfo(req mcp.Request) *mcp.Implementation {
	if ci, ok := metaClientInfo(req.GetParams()); ok {
		return ci
	}
	if ss, ok := req.GetSession().(*mcp.ServerSession); ok && ss != nil {
		if p := ss.InitializeParams(); p != nil {
			return p.ClientInfo
		}
	}
	return nil
}

// metaClientInfo decodes the client info in p's _meta, reporting false
// when there is none or it does not decode (the SDK then falls back to the
// session).
func metaClientInfo(p mcp.Params) (*mcp.Implementation, bool) {
	if p == nil {
		return nil, false
	}
	if v := reflect.ValueOf(p); v.Kind() == reflect.Pointer && v.IsNil() {
		return nil, false
	}
	raw, ok := p.GetMeta()[mcp.MetaKeyClientInfo]
	if !ok || raw == nil {
		return nil, false
	}
	if ci, ok := raw.(*mcp.Implementation); ok {
		return ci, true
	}
	data, err := json.Marshal(raw)
	if err != nil || wire.DepthExceeds(data, wire.MaxDepth) {
		return nil, false
	}
	var ci *mcp.Implementation
	if wire.DecodeValue(data, &ci) != nil {
		return nil, false
	}
	return ci, true
}
