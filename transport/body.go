package transport

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// startBodyDeadline bounds how long a POST may take to deliver its body,
// from the moment its headers are read: a client trickling a body holds a
// connection for at most the body read timeout, whether the handler reads
// the body or (after a refusal) the server discards it. GET streams are
// left alone: a read deadline would end them.
func (h *Handler) startBodyDeadline(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(h.cfg.bodyTimeout))
	}
}

// endBodyDeadline lifts the deadline once the body is read, so that the
// response may stream for as long as the call runs.
func endBodyDeadline(w http.ResponseWriter) {
	_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
}

// readBody reads an authenticated POST body within the limit (applied to
// the bytes the client sent), decodes it once as the SDK will, and puts
// back the body the SDK is to see: the client's bytes, or with every
// tools/call's _meta cleaned and stamped (forwardBody). It returns the
// tools/call requests for the scope check and the protocol version the
// body claims in _meta (for routing). It answers 400 or 413 itself and
// then reports false. caller is nil without authentication.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request, caller *mcpkit.Identity) (body, bool) {
	if r.ContentLength > h.cfg.maxBody {
		h.tooLarge(w, r, caller)
		return body{}, false
	}
	if r.Method != http.MethodPost || r.Body == nil {
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, h.cfg.maxBody)
		}
		return body{}, true
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.maxBody))
	_ = r.Body.Close()
	if err != nil {
		if mbe := new(http.MaxBytesError); errors.As(err, &mbe) {
			h.tooLarge(w, r, caller)
			return body{}, false
		}
		// A read deadline or a dropped connection: nobody to answer.
		http.Error(w, "could not read the request body", http.StatusBadRequest)
		return body{}, false
	}
	endBodyDeadline(w)
	in, err := decodeBody(raw)
	if err != nil {
		h.rejectAs(w, r, Rejection{Status: http.StatusBadRequest, afterBody: true, Reason: "malformed JSON-RPC body: " + describeDecodeError(err), Identity: caller,
			code: jsonrpc.CodeParseError}, "", nil,
			"the request body is not a JSON-RPC message or batch")
		return body{}, false
	}
	if n := in.longID(); n > 0 {
		h.rejectAs(w, r, Rejection{Status: http.StatusBadRequest, afterBody: true, Reason: fmt.Sprintf("JSON-RPC id too long (%d bytes)", n), Identity: caller,
			code: jsonrpc.CodeInvalidRequest}, "", nil, longIDMessage(n))
		return body{}, false
	}
	calls := in.toolCalls()
	for _, c := range calls {
		if c.Err != nil {
			h.invalidCall(w, r, caller, c)
			return body{}, false
		}
	}
	out, err := forwardBody(raw, in, calls)
	if err != nil {
		h.rejectAs(w, r, Rejection{Status: http.StatusBadRequest, afterBody: true, Reason: "re-encoding tools/call params: " + describeDecodeError(err), Identity: caller,
			code: jsonrpc.CodeInvalidParams}, "", nil,
			"the tools/call params could not be read")
		return body{}, false
	}
	r.Body = io.NopCloser(bytes.NewReader(out))
	r.ContentLength = int64(len(out))
	b := body{calls: calls, messages: len(in.msgs)}
	if req, ok := in.msgs[0].(*jsonrpc.Request); ok && !in.batch {
		b.single = req
	}
	b.metaVersion, b.metaID = in.metaVersion(calls)
	return b, true
}

// invalidCallMessage is what a client is told about tools/call params the
// server cannot read: no decoder wording, no type names, no internal keys.
const invalidCallMessage = `invalid tools/call params: send an object with a string "name" and an optional "arguments" object`

// invalidCall answers a tools/call whose params do not decode, with a plain
// message, and puts it on the record (the reject hook) as an invalid
// request.
func (h *Handler) invalidCall(w http.ResponseWriter, r *http.Request, caller *mcpkit.Identity, c rpcCall) {
	var id *jsonrpc.ID
	if c.ID.IsValid() {
		id = &c.ID
	}
	h.rejectAs(w, r, Rejection{Status: http.StatusBadRequest, afterBody: true, Reason: "tools/call params could not be decoded: " + describeDecodeError(c.Err),
		Identity: caller, code: jsonrpc.CodeInvalidParams}, "", id, invalidCallMessage)
}
