package transport

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/internal/wire"
)

// forwardParams returns the tools/call params the server is handed: what
// the SDK decoded from the client's params (p), with every _meta key in
// mcpkit's namespace the client sent removed and the JSON-RPC id stamped
// under its request-id key (go-sdk keeps the id private; the audit record
// and the trace need it). Being re-encoded from p, the result has one value
// per field, so duplicate keys in the client's JSON cannot make the server
// read anything other than what the checks read.
func forwardParams(raw json.RawMessage, p *mcp.CallToolParamsRaw, id jsonrpc.ID) (json.RawMessage, error) {
	meta := make(map[string]any, len(p.Meta)+1)
	for k, v := range p.Meta {
		if !strings.HasPrefix(k, wire.MetaNamespace) {
			meta[k] = v
		}
	}
	if id.IsValid() {
		meta[wire.MetaRequestID] = fmt.Sprint(id.Raw())
	}
	out := struct {
		Meta           map[string]any  `json:"_meta"`
		Name           string          `json:"name"`
		Arguments      json.RawMessage `json:"arguments,omitempty"`
		InputResponses json.RawMessage `json:"inputResponses,omitempty"`
		RequestState   string          `json:"requestState,omitempty"`
	}{Meta: meta, Name: p.Name, Arguments: p.Arguments, RequestState: p.RequestState}
	if p.InputResponses != nil {
		// Passed on as sent (the value the SDK decoded is the last one).
		var ir struct {
			InputResponses json.RawMessage `json:"inputResponses"`
		}
		if err := sdkUnmarshal(raw, &ir); err != nil {
			return nil, err
		}
		out.InputResponses = ir.InputResponses
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// As the SDK encodes: no HTML escaping, which would also grow the body.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// forwardRequest rewrites a decodable tools/call request in place with
// forwardParams.
func forwardRequest(req *jsonrpc.Request, p *mcp.CallToolParamsRaw) error {
	params, err := forwardParams(req.Params, p, req.ID)
	if err != nil {
		return err
	}
	req.Params = params
	return nil
}

// forwardBody is the body handed to the SDK: the client's own bytes when
// it holds no tools/call, else the decoded messages with every tools/call
// rewritten by forwardParams (calls must all be decodable).
func forwardBody(body []byte, in inbound, calls []rpcCall) ([]byte, error) {
	if len(calls) == 0 {
		return body, nil
	}
	for _, c := range calls {
		if err := forwardRequest(in.msgs[c.index].(*jsonrpc.Request), c.Params); err != nil {
			return nil, err
		}
	}
	if !in.batch {
		return jsonrpc.EncodeMessage(in.msgs[0])
	}
	var buf bytes.Buffer
	buf.WriteByte('[')
	next := 0
	for i, raw := range in.raw {
		if i > 0 {
			buf.WriteByte(',')
		}
		if next < len(calls) && calls[next].index == i {
			data, err := jsonrpc.EncodeMessage(in.msgs[i])
			if err != nil {
				return nil, err
			}
			buf.Write(data)
			next++
			continue
		}
		buf.Write(raw)
	}
	buf.WriteByte(']')
	return buf.Bytes(), nil
}
