package mcpkit

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// DefaultMaxResultBytes bounds a tool's result, as the JSON the client
// receives (content and structuredContent), unless WithMaxResultBytes or
// Tool.MaxResultBytes says otherwise. 1 MiB is generous: about a quarter of
// a million tokens, more than a model's whole context, and far above what a
// well-shaped tool returns (a page of 50 incidents is about 6 KB); it still
// stops one runaway query from being serialized, sent and audited at any
// size.
const DefaultMaxResultBytes = 1 << 20

// ResultTooLargeError is the internal cause recorded on a call whose result
// was refused for its size.
type ResultTooLargeError struct {
	Size, Limit int
}

func (e *ResultTooLargeError) Error() string {
	return fmt.Sprintf("result of %d bytes exceeds the limit of %d bytes", e.Size, e.Limit)
}

// limitStage refuses a result larger than the tool's limit. A structured
// result cannot be cut and still match the output schema, and a cut text
// could mislead the model, so an oversize result is replaced, whole, by an
// isError result saying what to do.
func limitStage(limit int, next Handler) Handler {
	return func(ctx context.Context, c *Call) (*mcp.CallToolResult, error) {
		res, err := next(ctx, c)
		if err != nil || res == nil {
			return res, err
		}
		if size, ok := resultWithin(res, limit); !ok {
			return c.Fail(tooLarge(c, size, limit)), nil
		}
		return res, nil
	}
}

func tooLarge(c *Call, size, limit int) *Error {
	msg := fmt.Sprintf("%s returned %d bytes, over its result limit of %d bytes, so nothing was returned. Ask for less: narrow the filter, lower the limit or page with a cursor.",
		c.Tool.Label(), size, limit)
	if c.ran && c.Tool.Policy.Risk != ReadOnly {
		msg = fmt.Sprintf("tool %s ran and its changes stand, but its result (%d bytes) is over its result limit of %d bytes, so it was not returned. Do not repeat the call; check its effect with a read-only tool.",
			c.Tool.Name, size, limit)
	}
	return &Error{Code: CodeResultTooLarge, Message: msg, Cause: &ResultTooLargeError{Size: size, Limit: limit}}
}

// resultWithin reports whether res serializes to at most limit bytes, and
// its size when it had to be measured. JSON escaping at most sextuples a
// byte (\u00XX), so a result whose raw bytes are small enough is within the
// limit without being encoded; a larger one is encoded once to measure it.
func resultWithin(res *mcp.CallToolResult, limit int) (int, bool) {
	if n, ok := rawSize(res); ok && 6*n <= limit {
		return n, true
	}
	b, err := json.Marshal(res)
	if err != nil {
		// Unencodable: the SDK reports it to the client; no size to judge.
		return 0, true
	}
	return len(b), len(b) <= limit
}

// rawSize is the unescaped size of res plus a generous allowance for the
// JSON around it; false for a part whose size it cannot tell cheaply.
func rawSize(res *mcp.CallToolResult) (int, bool) {
	n := 256 + len(res.RequestState)
	for _, ct := range res.Content {
		switch x := ct.(type) {
		case *mcp.TextContent:
			n += 64 + len(x.Text)
		case *mcp.ImageContent:
			n += 64 + len(x.MIMEType) + 2*len(x.Data)
		case *mcp.AudioContent:
			n += 64 + len(x.MIMEType) + 2*len(x.Data)
		default:
			return 0, false
		}
	}
	switch sc := res.StructuredContent.(type) {
	case nil:
	case json.RawMessage:
		n += len(sc)
	default:
		return 0, false
	}
	if len(res.InputRequests) > 0 || res.Meta != nil {
		return 0, false
	}
	return n, true
}
