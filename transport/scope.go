package transport

import (
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// headerProtocolVersion is the first protocol version whose requests carry
// Mcp-Method and Mcp-Name headers (which the SDK checks against the body).
const headerProtocolVersion = "2026-07-28"

// rpcCall is a tools/call request as the scope check needs it.
type rpcCall struct {
	ID     jsonrpc.ID
	Method string
	Params struct {
		Name string `json:"name"`
	}
	fromHeader bool
}

// checkToolScopes answers 403 insufficient_scope, before the tool runs,
// when a tools/call names a tool whose policy scopes the caller lacks. The
// core ScopeGate refuses such calls too; answering here lets an OAuth
// client step up. It returns false when it has answered.
func (h *Handler) checkToolScopes(w http.ResponseWriter, r *http.Request, id mcpkit.Identity) bool {
	if !h.srv.ScopesEnforced() {
		return true
	}
	for _, c := range toolCalls(r) {
		info, known := h.srv.Tool(c.Params.Name)
		if !known {
			continue
		}
		if missing := id.MissingScopes(info.Policy.Scopes...); len(missing) > 0 {
			if !c.ID.IsValid() && c.fromHeader {
				// The client matches the error to its request by id,
				// which only the body has.
				if body := bodyToolCalls(r); len(body) > 0 {
					c.ID = body[0].ID
				}
			}
			var rid *jsonrpc.ID
			if c.ID.IsValid() {
				rid = &c.ID
			}
			h.insufficientScope(w, r, rid, id, info.Name, info.Policy.Scopes, missing)
			return false
		}
	}
	return true
}

// toolCalls finds the tools/call requests in a POST: from the headers on
// protocol versions that send them, else from the body as stampBody
// decoded it.
func toolCalls(r *http.Request) []rpcCall {
	if r.Header.Get("Mcp-Protocol-Version") >= headerProtocolVersion {
		if m := r.Header.Get("Mcp-Method"); m != "" {
			if m != "tools/call" {
				return nil
			}
			if name := r.Header.Get("Mcp-Name"); name != "" {
				c := rpcCall{Method: m, fromHeader: true}
				c.Params.Name = name
				return []rpcCall{c}
			}
		}
	}
	return bodyToolCalls(r)
}
