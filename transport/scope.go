package transport

import (
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// checkToolScopes answers 403 insufficient_scope, before the tool runs,
// when a tools/call names a tool whose policy scopes the caller lacks. The
// core ScopeGate refuses such calls too; answering here lets an OAuth
// client step up. The tool names are the ones the SDK decodes from the
// body (readBody): the Mcp-Name header, which the SDK checks against the
// body, decides nothing here. It returns false when it has answered.
func (h *Handler) checkToolScopes(w http.ResponseWriter, r *http.Request, id mcpkit.Identity, calls []rpcCall) bool {
	if !h.srv.ScopesEnforced() {
		return true
	}
	for _, c := range calls {
		info, known := h.srv.Tool(c.Name())
		if !known {
			continue
		}
		if missing := id.MissingScopes(info.Policy.Scopes...); len(missing) > 0 {
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
