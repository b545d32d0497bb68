package transport

import (
	"bytes"
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// statelessRevision is the first protocol revision without sessions or an
// initialize handshake: every request carries its version in the
// MCP-Protocol-Version header and in _meta. The go-sdk serves it over HTTP
// only from a stateless handler, so the Handler routes such requests there
// and keeps stateful sessions for older clients, on the same endpoint.
const statelessRevision = "2026-07-28"

// body is what the transport learned from a POST body in its single decode.
type body struct {
	calls    []rpcCall
	messages int // JSON-RPC messages in the body: more than one is a batch
	// single is the body's request when the body is one request (not a
	// batch, not a response): the one whose Mcp-Method and
	// Mcp-Name headers the SDK checks.
	single *jsonrpc.Request
	// metaVersion is the protocol version the first request claiming one
	// carries in _meta ("" when none does), and metaID that request's id.
	metaVersion string
	metaID      *jsonrpc.ID
}

// metaVersion returns the _meta protocol version of the first request in
// in that carries one, with that request's id. A tools/call's params were
// decoded already, _meta included, by the same decoder (calls): their
// version is read from there, not decoded a second time. Older clients
// send none, so a byte search spares them the decode of any other
// request's params.
func (in inbound) metaVersion(calls []rpcCall) (string, *jsonrpc.ID) {
	key := []byte(mcp.MetaKeyProtocolVersion)
	next := 0 // calls are in message order
	for i, m := range in.msgs {
		req, ok := m.(*jsonrpc.Request)
		if !ok {
			continue
		}
		var meta map[string]any
		for next < len(calls) && calls[next].index < i {
			next++
		}
		if next < len(calls) && calls[next].index == i && calls[next].Params != nil {
			meta = calls[next].Params.Meta
		} else {
			if !bytes.Contains(req.Params, key) {
				continue
			}
			var p struct {
				Meta map[string]any `json:"_meta"`
			}
			if sdkUnmarshal(req.Params, &p) != nil {
				continue
			}
			meta = p.Meta
		}
		if v, ok := meta[mcp.MetaKeyProtocolVersion].(string); ok && v != "" {
			id := req.ID
			return v, &id
		}
	}
	return "", nil
}

// speaksStateless reports whether r asks for the stateless protocol: by its
// MCP-Protocol-Version header or by a request's _meta (a mismatch between
// the two is then the SDK's to refuse, -32020, rather than a stateful
// session's to misread as an unsupported version).
func speaksStateless(r *http.Request, b body) bool {
	return r.Header.Get("Mcp-Protocol-Version") >= statelessRevision || b.metaVersion >= statelessRevision
}

// sessionlessMessage is what a client mixing the stateless protocol with a
// session id is told.
const sessionlessMessage = "protocol version " + statelessRevision + " has no sessions: send the request without Mcp-Session-Id, " +
	"or keep the session's own protocol version in MCP-Protocol-Version and _meta"

// checkSessionless refuses a stateless-protocol request that names a
// session: a session negotiated an older version, and a request may not
// switch versions inside it (nor may a stateless client lean on another's
// session). Serving it statelessly would hide the client's confusion; the
// session would never see it.
func (h *Handler) checkSessionless(w http.ResponseWriter, r *http.Request, b body, rej Rejection) bool {
	sid := r.Header.Get("Mcp-Session-Id")
	if sid == "" {
		return true
	}
	rej.Status, rej.afterBody, rej.code = http.StatusBadRequest, true, jsonrpc.CodeInvalidRequest
	rej.Reason = "protocol " + r.Header.Get("Mcp-Protocol-Version") + " request (_meta " + b.metaVersion + ") names session " + sid
	h.rejectAs(w, r, rej, "", b.metaID, sessionlessMessage)
	return false
}
