package transport

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// From protocol 2026-07-28 a request says in its Mcp-Method header what it
// is, and a tools/call, resources/read or prompts/get also says in Mcp-Name
// what it names, so that a gateway can route without reading the body. The
// go-sdk refuses a request whose headers disagree with its body (400,
// -32020), but it does so before any server code runs, so such a request
// would leave no record: a proxy routing on a name the server never acts on
// is exactly what the record must show. The transport applies the SDK's own
// rules first, with its codes, and refuses through the reject hook. The
// client's values are never echoed into the reason or the message.

// namedMethods are the methods whose Mcp-Name header mirrors a name in the
// params.
var namedMethods = map[string]bool{methodToolsCall: true, "resources/read": true, "prompts/get": true}

// checkMethodHeaders answers 400/-32020 itself and reports false when a
// single request's Mcp-Method or Mcp-Name header disagrees with its body,
// under the rules of go-sdk v1.8.0 (only when the MCP-Protocol-Version
// header is 2026-07-28 or later, never for a batch).
func (h *Handler) checkMethodHeaders(w http.ResponseWriter, r *http.Request, caller *mcpkit.Identity, b body) bool {
	if r.Method != http.MethodPost || b.single == nil {
		return true
	}
	if v := r.Header.Get("Mcp-Protocol-Version"); v == "" || v < statelessRevision {
		return true
	}
	req := b.single
	problem, reason, target := methodHeaderProblem(r.Header, req)
	if problem == "" {
		return true
	}
	rej := Rejection{Status: http.StatusBadRequest, afterBody: true, code: mcp.CodeHeaderMismatch,
		Reason: "Mcp-Method/Mcp-Name header check: " + reason, Identity: caller}
	if namedMethods[req.Method] {
		rej.Method, rej.Target = req.Method, target
	}
	id := req.ID
	h.rejectAs(w, r, rej, "", &id, problem)
	return false
}

// methodHeaderProblem returns the message for the client, the reason for
// the record ("" when the headers agree with the body) and the name the
// body carries, when it could be read. The method in the messages is the
// body's only when it is one of namedMethods.
func methodHeaderProblem(hdr http.Header, req *jsonrpc.Request) (problem, reason, target string) {
	inBody, ok := "", false
	if namedMethods[req.Method] {
		inBody, ok = paramsName(req.Method, req.Params)
	}
	method := hdr.Get("Mcp-Method")
	switch {
	case method == "":
		return "missing required Mcp-Method header", "no Mcp-Method header", inBody
	case method != req.Method:
		return "header mismatch: the Mcp-Method header does not match the body's method",
			fmt.Sprintf("Mcp-Method header (%d bytes) differs from the body's method (%d bytes)", len(method), len(req.Method)), inBody
	}
	if !namedMethods[req.Method] {
		return "", "", ""
	}
	name := hdr.Get("Mcp-Name")
	if name == "" {
		return fmt.Sprintf("missing required Mcp-Name header for method %q", req.Method), "no Mcp-Name header for " + req.Method, inBody
	}
	if !ok {
		return fmt.Sprintf("failed to extract name from parameters for method %q", req.Method),
			"the " + req.Method + " params do not decode (a field of the wrong type, or not an object)", ""
	}
	if name != inBody {
		return "header mismatch: the Mcp-Name header does not match the name in the body",
			fmt.Sprintf("Mcp-Name header (%d bytes) differs from the body's name (%d bytes)", len(name), len(inBody)), inBody
	}
	return "", "", ""
}

// paramsName is the name (or URI) the params carry, decoded into the SDK's
// own params types with its rules: a prompt argument that is not a string
// makes the prompts/get params undecodable, as it does for the SDK.
func paramsName(method string, params json.RawMessage) (string, bool) {
	switch method {
	case methodToolsCall:
		var p mcp.CallToolParams
		if sdkUnmarshal(params, &p) == nil {
			return p.Name, true
		}
	case "prompts/get":
		var p mcp.GetPromptParams
		if sdkUnmarshal(params, &p) == nil {
			return p.Name, true
		}
	case "resources/read":
		var p mcp.ReadResourceParams
		if sdkUnmarshal(params, &p) == nil {
			return p.URI, true
		}
	}
	return "", false
}
