package mcpkit

import (
	"context"
	"errors"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// callUnregistered runs a call to a tool mcpkit did not register through the
// outer chain. The SDK answers it: an unknown tool becomes a JSON-RPC error
// recorded as OutcomeUnknownTool; a tool added to the *mcp.Server directly
// runs as it would without mcpkit.
func (s *Server) callUnregistered(ctx context.Context, method string, req mcp.Request, p *mcp.CallToolParamsRaw, next mcp.MethodHandler) (mcp.Result, error) {
	ctr, _ := req.(*mcp.CallToolRequest)
	info := &ToolInfo{Name: p.Name, Unknown: true}
	c := s.newCall(ctx, info, ctr)
	ctx = context.WithValue(ctx, callKey{}, c)
	terminal := func(ctx context.Context, c *Call) (*mcp.CallToolResult, error) {
		res, err := next(ctx, method, req)
		cr, _ := res.(*mcp.CallToolResult)
		if err != nil || cr == nil {
			var we *jsonrpc.Error
			if errors.As(err, &we) && we.Code == jsonrpc.CodeInvalidParams {
				c.SetOutcome(OutcomeUnknownTool, err)
			} else {
				c.SetOutcome(OutcomeToolError, err)
			}
			if err == nil {
				err = errors.New("no result")
			}
			return nil, err
		}
		if cr.IsError {
			c.SetOutcome(OutcomeToolError, nil)
		}
		return cr, nil
	}
	if err := s.establish(ctx, c, req); err != nil {
		terminal = func(context.Context, *Call) (*mcp.CallToolResult, error) { return c.Fail(err), nil }
	}
	res, err := s.wrapOuter(terminal)(ctx, c)
	if res == nil {
		// Never hand the SDK a typed nil inside a non-nil interface.
		return nil, err
	}
	return res, err
}
