package transport

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/internal/wire"
)

// The transport decides (scope pre-check, request id, audit) on what the
// SDK will act on, so it decodes exactly as go-sdk v1.8.0 does: the same
// JSON library with case-sensitive field names, the same nesting bound, the
// same batch rule, the same params type. Anything looser (matching bytes,
// case-insensitive names) lets a body mean one thing to the check and
// another to the server.

// maxJSONDepth is the SDK's nesting bound for a message or params.
const maxJSONDepth = wire.MaxDepth

var errTooDeep = fmt.Errorf("JSON nested deeper than %d levels", maxJSONDepth)

// sdkUnmarshal decodes data into v as the SDK's JSON decoding does: the
// first JSON value only, struct fields matched case-sensitively, nesting
// bounded (wire.DecodeValue, the same decoding without its 32 KiB read
// buffer per call).
func sdkUnmarshal(data []byte, v any) error {
	if wire.DepthExceeds(data, maxJSONDepth) {
		return errTooDeep
	}
	return wire.DecodeValue(data, v)
}

// inbound is a POST body decoded as the SDK decodes it: one message, or a
// batch (raw holds each element as sent).
type inbound struct {
	msgs  []jsonrpc.Message
	raw   []json.RawMessage // batch elements; nil for a single message
	batch bool
}

// decodeBody decodes a body the way the SDK's streamable and SSE handlers
// do: a JSON array of messages if it is one, else a single message.
func decodeBody(body []byte) (inbound, error) {
	var raw []json.RawMessage
	// Only an array or null decodes into a slice: a body starting with
	// anything else (a single message) skips the attempt.
	if mayBeBatch(body) && sdkUnmarshal(body, &raw) == nil {
		if len(raw) == 0 {
			return inbound{batch: true}, errors.New("empty batch")
		}
		in := inbound{raw: raw, batch: true, msgs: make([]jsonrpc.Message, len(raw))}
		for i, r := range raw {
			msg, err := jsonrpc.DecodeMessage(r)
			if err != nil {
				return in, err
			}
			in.msgs[i] = msg
		}
		return in, nil
	}
	msg, err := jsonrpc.DecodeMessage(body)
	if err != nil {
		return inbound{}, err
	}
	return inbound{msgs: []jsonrpc.Message{msg}}, nil
}

// mayBeBatch reports whether body's first value can decode into a slice:
// it starts, after JSON whitespace, with '[' or 'n' (null).
func mayBeBatch(body []byte) bool {
	for _, c := range body {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '[', 'n':
			return true
		}
		return false
	}
	return true // empty: let the decoder say why
}

// methodToolsCall is the one method whose params the transport reads.
const methodToolsCall = "tools/call"

// rpcCall is a tools/call request as the transport sees it.
type rpcCall struct {
	ID jsonrpc.ID
	// Params is what the SDK will decode; nil when it cannot (Err says
	// why, for the server's records only).
	Params *mcp.CallToolParamsRaw
	Err    error
	index  int // position in the batch (0 for a single message)
}

// Name is the tool called, empty when the params do not decode.
func (c rpcCall) Name() string {
	if c.Params == nil {
		return ""
	}
	return c.Params.Name
}

// decodeCallParams decodes tools/call params into the SDK's own params type
// with the SDK's rules: absent or null params are an error, as is any field
// of the wrong type.
func decodeCallParams(params json.RawMessage) (*mcp.CallToolParamsRaw, error) {
	var p *mcp.CallToolParamsRaw
	if params != nil {
		if err := sdkUnmarshal(params, &p); err != nil {
			return nil, err
		}
	}
	if p == nil {
		return nil, errors.New("missing params")
	}
	return p, nil
}

// toolCalls returns the tools/call requests of a decoded body.
func (in inbound) toolCalls() []rpcCall {
	var calls []rpcCall
	for i, m := range in.msgs {
		req, ok := m.(*jsonrpc.Request)
		if !ok || req.Method != methodToolsCall {
			continue
		}
		p, err := decodeCallParams(req.Params)
		calls = append(calls, rpcCall{ID: req.ID, Params: p, Err: err, index: i})
	}
	return calls
}
