package mcpkit

import (
	"encoding/json"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// MetaRequestID is the _meta key under which mcpkit's transports hand the
// JSON-RPC id of a tools/call to the server: go-sdk v1.8.0 keeps the id
// private to its own context, and the audit record and trace need it.
// mcpkit's transports remove every client-supplied key in MetaNamespace
// before they stamp theirs, so the server never reads a value the client
// wrote under the library's name.
const MetaRequestID = MetaNamespace + "request-id"

// MetaNamespace prefixes every _meta key mcpkit itself writes.
const MetaNamespace = "io.mcpkit/"

// StampRequestID returns tools/call params with id under
// _meta[MetaRequestID]. Params it cannot parse as an object come back
// unchanged, for the server to refuse as it would have.
func StampRequestID(params json.RawMessage, id any) json.RawMessage {
	var top map[string]json.RawMessage
	if json.Unmarshal(params, &top) != nil || top == nil {
		return params
	}
	meta := map[string]json.RawMessage{}
	if raw, ok := top["_meta"]; ok {
		if json.Unmarshal(raw, &meta) != nil || meta == nil {
			return params
		}
	}
	idJSON, err := json.Marshal(fmt.Sprint(id))
	if err != nil {
		return params
	}
	meta[MetaRequestID] = idJSON
	metaJSON, err := json.Marshal(meta)
	if err != nil {
		return params
	}
	top["_meta"] = metaJSON
	out, err := json.Marshal(top)
	if err != nil {
		return params
	}
	return out
}

// requestIDOf reads the id a transport stamped on the params.
func requestIDOf(p *mcp.CallToolParamsRaw) string {
	if p == nil || p.Meta == nil {
		return ""
	}
	id, _ := p.Meta[MetaRequestID].(string)
	return id
}
