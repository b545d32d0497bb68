package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// stampRequest puts a tools/call request's JSON-RPC id where the server can
// read it (mcpkit.MetaRequestID), for the audit record and the trace.
func stampRequest(req *jsonrpc.Request) {
	if req.Method == "tools/call" && req.ID.IsValid() {
		req.Params = mcpkit.StampRequestID(req.Params, req.ID.Raw())
	}
}

// stampBody reads a POST body once (bounded), does stampRequest for every
// tools/call in it (one message or a batch) and puts the body back. The
// tools/call requests it found ride on the returned request's context for
// the scope check, so the body is decoded once. A body that does not parse
// is left as it is for the SDK to refuse. It reports false after answering
// a body over the limit itself.
func (h *Handler) stampBody(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	if r.Method != http.MethodPost || r.Body == nil {
		return r, true
	}
	body, err := io.ReadAll(r.Body)
	_ = r.Body.Close()
	if err != nil {
		if mbe := new(http.MaxBytesError); errors.As(err, &mbe) {
			h.tooLarge(w, r)
			return r, false
		}
		http.Error(w, "could not read the request body", http.StatusBadRequest)
		return r, false
	}
	var calls []rpcCall
	if bytes.Contains(body, []byte(`tools/call`)) {
		body, calls = stampMessages(body)
		r = r.WithContext(context.WithValue(r.Context(), toolCallsKey{}, calls))
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	return r, true
}

type toolCallsKey struct{}

// bodyToolCalls returns the tools/call requests stampBody found.
func bodyToolCalls(r *http.Request) []rpcCall {
	calls, _ := r.Context().Value(toolCallsKey{}).([]rpcCall)
	return calls
}

func stampMessages(body []byte) ([]byte, []rpcCall) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var batch []json.RawMessage
		if json.Unmarshal(trimmed, &batch) != nil {
			return body, nil
		}
		var calls []rpcCall
		for i, raw := range batch {
			var c *rpcCall
			batch[i], c = stampMessage(raw)
			if c != nil {
				calls = append(calls, *c)
			}
		}
		out, err := json.Marshal(batch)
		if err != nil {
			return body, calls
		}
		return out, calls
	}
	out, c := stampMessage(body)
	if c == nil {
		return out, nil
	}
	return out, []rpcCall{*c}
}

// stampMessage stamps one message; for a tools/call it also returns the
// call's id and tool name.
func stampMessage(raw []byte) ([]byte, *rpcCall) {
	msg, err := jsonrpc.DecodeMessage(raw)
	if err != nil {
		return raw, nil
	}
	req, ok := msg.(*jsonrpc.Request)
	if !ok || req.Method != "tools/call" {
		return raw, nil
	}
	c := &rpcCall{ID: req.ID, Method: req.Method}
	_ = json.Unmarshal(req.Params, &c.Params)
	stampRequest(req)
	out, err := jsonrpc.EncodeMessage(req)
	if err != nil {
		return raw, c
	}
	return out, c
}
