package mcpkit

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// unregisteredEntry runs a resources/read of a URI, or a prompts/get of a
// name, that mcpkit did not register through the outer chain, so that it
// is audited. The SDK answers it: a resource or prompt added to the
// *mcp.Server directly is served as it would be without mcpkit; anything
// else is refused as not found and recorded as OutcomeUnknownResource or
// OutcomeUnknownPrompt. The target is the client's string: the audit
// record redacts it and telemetry never names a span or a metric after it.
func (s *Server) unregisteredEntry(ctx context.Context, method string, req mcp.Request, op Operation, target string, next mcp.MethodHandler) (mcp.Result, error) {
	kind, unknown := KindResource, OutcomeUnknownResource
	if op == OpGetPrompt {
		kind, unknown = KindPrompt, OutcomeUnknownPrompt
	}
	info := &ToolInfo{Kind: kind, Name: target, Unknown: true}
	if kind == KindResource {
		info.URI = target
	}
	c := s.newEntryCall(info, op, target, req)
	if gp, ok := req.(*mcp.GetPromptRequest); ok && gp.Params != nil && len(gp.Params.Arguments) > 0 {
		c.Arguments, _ = json.Marshal(gp.Params.Arguments)
	}
	ctx = context.WithValue(ctx, callKey{}, c)
	var reply mcp.Result
	terminal := func(ctx context.Context, c *Call) (*mcp.CallToolResult, error) {
		res, err := next(ctx, method, req)
		if err != nil || res == nil {
			var we *jsonrpc.Error
			if errors.As(err, &we) && we.Code == jsonrpc.CodeInvalidParams {
				c.SetOutcome(unknown, err)
			} else {
				c.SetOutcome(OutcomeToolError, err)
			}
			if err == nil {
				err = errors.New("no result")
			}
			return nil, err
		}
		reply = res
		return c.record(res, res)
	}
	if err := s.establish(ctx, c, req); err != nil {
		terminal = func(context.Context, *Call) (*mcp.CallToolResult, error) { return c.Fail(err), nil }
	}
	res, err := s.wrapOuter(terminal)(ctx, c)
	switch {
	case err != nil:
		return nil, err
	case res == nil:
		return nil, errors.New("no result")
	case res.IsError:
		return nil, refusal(c, res)
	case reply == nil:
		return nil, errors.New("no result")
	}
	return reply, nil
}
