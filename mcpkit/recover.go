package mcpkit

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// PanicError is the internal cause recorded for a recovered panic.
type PanicError struct {
	Value any
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

const panicMessage = "internal error: the tool failed unexpectedly; the server recorded the details"

// recoverer contains a panic inside h: the client gets a generic isError
// result, the cause and stack stay on the Call, and the layers outside (the
// audit middleware) see an ordinary result. Every layer of the chain is
// wrapped, so a panicking middleware is contained as well as a panicking
// handler.
func recoverer(h Handler) Handler {
	return func(ctx context.Context, c *Call) (res *mcp.CallToolResult, err error) {
		defer func() {
			if v := recover(); v != nil {
				c.outcome = OutcomePanic
				c.err = &PanicError{Value: v}
				c.stack = debug.Stack()
				res, err = errorResult(panicMessage), nil
			}
		}()
		return h(ctx, c)
	}
}
