package mcpkit

import (
	"context"
	"slices"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Handler serves one tool call. A returned error is a protocol failure
// (JSON-RPC error); tool failures and denials are results with IsError set,
// normally built with Call.Fail.
type Handler func(ctx context.Context, c *Call) (*mcp.CallToolResult, error)

// Middleware wraps a Handler. Audit, flags, scopes and approval are all
// middleware of this one type.
type Middleware func(Handler) Handler

// Chain composes middleware; the first runs first (outermost).
func Chain(mw ...Middleware) Middleware {
	mw = slices.Clone(mw)
	return func(h Handler) Handler {
		for i := len(mw) - 1; i >= 0; i-- {
			if mw[i] != nil {
				h = mw[i](h)
			}
		}
		return h
	}
}

// Selector picks tools, for applying middleware to a subset.
type Selector func(*ToolInfo) bool

// ByName selects the tools with the given names.
func ByName(names ...string) Selector {
	names = slices.Clone(names)
	return func(t *ToolInfo) bool { return slices.Contains(names, t.Name) }
}

// ByRisk selects the tools with one of the given risks.
func ByRisk(risks ...Risk) Selector {
	risks = slices.Clone(risks)
	return func(t *ToolInfo) bool { return slices.Contains(risks, t.Policy.Risk) }
}

// Not selects the tools s does not.
func Not(s Selector) Selector { return func(t *ToolInfo) bool { return !s(t) } }

// Select applies mw only to the tools s picks; other calls pass straight
// through. The selector runs per call on the tool's static info, so it costs
// a function call, not a lookup.
func Select(s Selector, mw Middleware) Middleware {
	return func(next Handler) Handler {
		wrapped := mw(next)
		return func(ctx context.Context, c *Call) (*mcp.CallToolResult, error) {
			if c.Tool != nil && s(c.Tool) {
				return wrapped(ctx, c)
			}
			return next(ctx, c)
		}
	}
}
