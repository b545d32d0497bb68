package transport

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// headerProtocolVersion is the first protocol version whose requests carry
// Mcp-Method and Mcp-Name headers (which the SDK checks against the body).
const headerProtocolVersion = "2026-07-28"

type rpcCall struct {
	ID     any    `json:"id"`
	Method string `json:"method"`
	Params struct {
		Name string `json:"name"`
	} `json:"params"`
	fromHeader bool
}

// requestID reads the JSON-RPC id from a (bounded) request body.
func requestID(r *http.Request) any {
	if r.Body == nil {
		return nil
	}
	var c struct {
		ID any `json:"id"`
	}
	if json.NewDecoder(r.Body).Decode(&c) != nil {
		return nil
	}
	return c.ID
}

// checkToolScopes answers 403 insufficient_scope, before the tool runs,
// when a tools/call names a tool whose policy scopes the caller lacks. The
// core ScopeGate refuses such calls too; answering here lets an OAuth
// client step up. It returns false when it has answered.
func (h *Handler) checkToolScopes(w http.ResponseWriter, r *http.Request, id mcpkit.Identity) bool {
	calls, ok := h.toolCalls(w, r)
	if !ok {
		return false
	}
	for _, c := range calls {
		info, known := h.srv.Tool(c.Params.Name)
		if !known {
			continue
		}
		if missing := id.MissingScopes(info.Policy.Scopes...); len(missing) > 0 {
			if c.ID == nil && c.fromHeader {
				// Refusal path only: the client matches the error to its
				// request by id, which only the body has.
				c.ID = requestID(r)
			}
			var rid *jsonrpc.ID
			if c.ID != nil {
				if v, err := jsonrpc.MakeID(c.ID); err == nil {
					rid = &v
				}
			}
			h.insufficientScope(w, r, rid, id, info.Name, info.Policy.Scopes, missing)
			return false
		}
	}
	return true
}

// toolCalls finds the tools/call requests in a POST: from the headers on
// protocol versions that send them, else from the (bounded) body, which is
// put back for the SDK. A body that does not parse is left for the SDK to
// refuse.
func (h *Handler) toolCalls(w http.ResponseWriter, r *http.Request) ([]rpcCall, bool) {
	if r.Header.Get("Mcp-Protocol-Version") >= headerProtocolVersion {
		if m := r.Header.Get("Mcp-Method"); m != "" {
			if m != "tools/call" {
				return nil, true
			}
			if name := r.Header.Get("Mcp-Name"); name != "" {
				c := rpcCall{Method: m, fromHeader: true}
				c.Params.Name = name
				return []rpcCall{c}, true
			}
		}
	}
	if r.Body == nil {
		return nil, true
	}
	body, err := io.ReadAll(r.Body)
	_ = r.Body.Close()
	if err != nil {
		if mbe := new(http.MaxBytesError); errors.As(err, &mbe) {
			h.tooLarge(w, r)
			return nil, false
		}
		http.Error(w, "could not read the request body", http.StatusBadRequest)
		return nil, false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	// Cheap pre-filter: no tools/call in the body, nothing to decode.
	if !bytes.Contains(body, []byte(`tools/call`)) {
		return nil, true
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	var calls []rpcCall
	if len(trimmed) > 0 && trimmed[0] == '[' {
		_ = json.Unmarshal(trimmed, &calls)
	} else {
		var c rpcCall
		if json.Unmarshal(trimmed, &c) == nil {
			calls = []rpcCall{c}
		}
	}
	out := calls[:0]
	for _, c := range calls {
		if c.Method == "tools/call" {
			out = append(out, c)
		}
	}
	return out, true
}
