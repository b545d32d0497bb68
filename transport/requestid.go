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

// stampRequest puts a tools/call request's JSON-RPC id where the server can
// read it (mcpkit.MetaRequestID), for the audit record and the trace.
func stampRequest(req *jsonrpc.Request) {
	if req.Method == "tools/call" && req.ID.IsValid() {
		req.Params = mcpkit.StampRequestID(req.Params, req.ID.Raw())
	}
}

// stampBody does stampRequest for every tools/call in an HTTP request body
// (one message or a batch), replacing the body. A body that does not parse
// is left as it is for the SDK to refuse. It reports false after answering
// a body over the limit itself.
func (h *Handler) stampBody(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodPost || r.Body == nil {
		return true
	}
	body, err := io.ReadAll(r.Body)
	_ = r.Body.Close()
	if err != nil {
		if mbe := new(http.MaxBytesError); errors.As(err, &mbe) {
			h.tooLarge(w, r)
			return false
		}
		http.Error(w, "could not read the request body", http.StatusBadRequest)
		return false
	}
	if bytes.Contains(body, []byte(`tools/call`)) {
		body = stampMessages(body)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	return true
}

func stampMessages(body []byte) []byte {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var batch []json.RawMessage
		if json.Unmarshal(trimmed, &batch) != nil {
			return body
		}
		for i, raw := range batch {
			batch[i] = stampMessage(raw)
		}
		out, err := json.Marshal(batch)
		if err != nil {
			return body
		}
		return out
	}
	return stampMessage(body)
}

func stampMessage(raw []byte) []byte {
	msg, err := jsonrpc.DecodeMessage(raw)
	if err != nil {
		return raw
	}
	req, ok := msg.(*jsonrpc.Request)
	if !ok || req.Method != "tools/call" {
		return raw
	}
	stampRequest(req)
	out, err := jsonrpc.EncodeMessage(req)
	if err != nil {
		return raw
	}
	return out
}
