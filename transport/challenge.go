package transport

import (
	"time"

	"github.com/mcpkit-go/mcpkit/mcpkit"

	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// JSON-RPC error codes of transport refusals. The go-sdk client surfaces
// the error body of a non-2xx answer to the caller without ending the
// session, so a refusal reads like any other failed request.
const (
	CodeUnauthorized = -32001 // 401: missing or invalid token
	CodeForbidden    = -32003 // 403: origin, insufficient scope
	CodeUnavailable  = -32004 // 503: token verification unavailable
)

// reject writes a refusal: status, WWW-Authenticate where the status calls
// for one, and a JSON-RPC error whose message is msg (client-safe). reason
// goes to the log and the reject hook only.
func (h *Handler) reject(w http.ResponseWriter, r *http.Request, status int, authErr string, id *jsonrpc.ID, msg, reason string) {
	h.rejectAs(w, r, Rejection{Status: status, Reason: reason}, authErr, id, msg)
}

// rejectAs is reject with what is known of the caller and the tool.
func (h *Handler) rejectAs(w http.ResponseWriter, r *http.Request, rej Rejection, authErr string, id *jsonrpc.ID, msg string) {
	status, reason := rej.Status, rej.Reason
	switch status {
	case http.StatusUnauthorized:
		params := []string{fmt.Sprintf("resource_metadata=%q", h.metadataURL(r))}
		if authErr != "" {
			params = append(params, fmt.Sprintf("error=%q", authErr))
		}
		w.Header().Set("WWW-Authenticate", "Bearer "+strings.Join(params, ", "))
	}
	h.refusals.log(status, reason, r.RemoteAddr, rej.Identity != nil)
	if r.Method == http.MethodPost && !rej.afterBody {
		// The body was not read: without this, net/http would wait for it
		// (up to the body timeout) to keep the connection, before the
		// refusal is sent.
		w.Header().Set("Connection", "close")
	}
	code := int64(CodeForbidden)
	switch {
	case rej.code != 0:
		code = rej.code
	case status == http.StatusTooManyRequests:
		code = CodeUnavailable
	case status == http.StatusUnauthorized:
		code = CodeUnauthorized
	case status == http.StatusServiceUnavailable:
		code = CodeUnavailable
	case status == http.StatusRequestEntityTooLarge:
		code = jsonrpc.CodeInvalidRequest
	}
	if h.cfg.onReject != nil {
		describe(r, &rej, id, code, msg)
		h.cfg.onReject(r, rej)
	}
	writeRPCError(w, status, id, code, msg)
}

func writeRPCError(w http.ResponseWriter, status int, id *jsonrpc.ID, code int64, msg string) {
	resp := &jsonrpc.Response{Error: &jsonrpc.Error{Code: code, Message: msg}}
	if id != nil {
		resp.ID = *id
	}
	data, err := jsonrpc.EncodeMessage(resp)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err == nil {
		_, _ = w.Write(data)
	}
}

func (h *Handler) tooLarge(w http.ResponseWriter, r *http.Request, caller *mcpkit.Identity) {
	h.rejectAs(w, r, Rejection{Status: http.StatusRequestEntityTooLarge, Reason: "body too large", Identity: caller}, "", nil,
		fmt.Sprintf("request body exceeds the server's limit of %d bytes", h.cfg.maxBody))
}

// insufficientScope is the step-up challenge: the client may get a token
// with the named scopes and retry.
func (h *Handler) insufficientScope(w http.ResponseWriter, r *http.Request, id *jsonrpc.ID, caller mcpkit.Identity, tool string, need, missing []string) {
	w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer error="insufficient_scope", scope=%q, resource_metadata=%q`,
		strings.Join(need, " "), h.metadataURL(r)))
	h.rejectAs(w, r, Rejection{
		Status:    http.StatusForbidden,
		Reason:    "insufficient scope for " + tool + ": missing " + strings.Join(missing, " "),
		Tool:      tool,
		Identity:  &caller,
		Missing:   missing,
		afterBody: true,
	}, "", id,
		fmt.Sprintf("tool %s requires scope %s, which your token does not grant; get a token with that scope and retry", tool, strings.Join(missing, " ")))
}

// Rejection describes a request the handler refused before it reached the
// MCP server, for WithRejectHook (an audit record, a metric).
type Rejection struct {
	// Status is the HTTP status sent: 400 (a body or tools/call the server
	// cannot decode: an invalid request), 401, 403, 413, 429 or 503.
	Status int
	// Reason is the internal reason (never sent to the client).
	Reason string
	// Tool is the tool the request called, when the refusal is about one.
	Tool string
	// Target is the URI or name a refused resources/read, prompts/get or
	// tools/call named in its params, when they could be read (the
	// client's string: the audit record redacts it).
	Target string
	// Identity is the authenticated caller, when authentication succeeded.
	Identity *mcpkit.Identity
	// Missing are the scopes the caller lacked (insufficient_scope).
	Missing []string
	// RetryAfter is set on a rate-limit refusal (429 from WithRateLimit):
	// how long until the caller may call the tool again.
	RetryAfter time.Duration

	code      int64 // JSON-RPC error code, when not the status's usual one
	afterBody bool  // the request body was read in full

	// Method, RequestID, SessionID and ProtocolVersion are what the request
	// said of itself (Mcp-Method header or the tools/call in the body, its
	// JSON-RPC id, Mcp-Session-Id, Mcp-Protocol-Version), when it said it:
	// the client's claims, for the record and the trace only.
	Method, RequestID, SessionID, ProtocolVersion string
	// Code and Message are the JSON-RPC error answered.
	Code    int64
	Message string
	// Network is the connection the request came over.
	Network mcpkit.Network
}

// metadataURL is where this resource's RFC 9728 document lives: from the
// configured resource URI, else from the request (development only: the
// Host header is the client's to choose).
func (h *Handler) metadataURL(r *http.Request) string {
	if h.cfg.resource != "" {
		u, _ := url.Parse(h.cfg.resource)
		return u.Scheme + "://" + u.Host + h.metaPathOrBase()
	}
	return requestBase(r) + h.metaPathOrBase()
}

func (h *Handler) metaPathOrBase() string {
	if h.metaPath != "" {
		return h.metaPath
	}
	return wellKnown
}

// resourceURI is the resource this server is: configured, or derived from
// the request.
func (h *Handler) resourceURI(r *http.Request) string {
	if h.cfg.resource != "" {
		return h.cfg.resource
	}
	return requestBase(r) + h.cfg.path
}

func requestBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
