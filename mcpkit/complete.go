package mcpkit

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// complete decides a completion/complete (answered by the SDK's
// mcp.ServerOptions.CompletionHandler, given with WithServerOptions) as a
// prompts/get of the prompt it names (ref/prompt) or a resources/read of
// the resource template it names (ref/resource, by its URI template): a
// caller the gates refuse gets no completions, the handler does not run,
// and the request is audited (operation completion/complete, the prompt's
// name or the template as target, the argument and context values as
// arguments). A target nobody registered with mcpkit is refused with its
// string redacted in the record; an argument the prompt or template does
// not have is invalid input.
func (s *Server) complete(ctx context.Context, method string, req mcp.Request, p *mcp.CompleteParams, next mcp.MethodHandler) (mcp.Result, error) {
	var info *ToolInfo
	var target string
	switch p.Ref.Type {
	case "ref/prompt":
		target = p.Ref.Name
		pr, ok := s.prompt(target)
		if !ok {
			return nil, s.refuseUnknown(ctx, req, OpComplete, KindPrompt, target, fmt.Sprintf("unknown prompt %q", target))
		}
		info = pr
	case "ref/resource":
		target = p.Ref.URI
		r, ok := s.templateByPattern(target)
		if !ok {
			r, ok = s.resourceByURI(target)
		}
		if !ok {
			return nil, s.refuseUnknown(ctx, req, OpComplete, KindResource, target,
				fmt.Sprintf("unknown resource %q: no resource template of this server has that URI template", target))
		}
		info = r
	default:
		// The SDK refuses an unknown reference type.
		return next(ctx, method, req)
	}
	c := s.newDecisionCall(info, OpComplete, target, req)
	args := map[string]string{}
	if p.Context != nil {
		maps.Copy(args, p.Context.Arguments)
	}
	args[p.Argument.Name] = p.Argument.Value
	c.Arguments, _ = json.Marshal(args)
	if _, ok := info.argTypes[p.Argument.Name]; !ok {
		c.argErr = &Error{Code: CodeInvalidInput, Message: fmt.Sprintf("invalid arguments: %s has no argument %q to complete", info.Label(), p.Argument.Name)}
	}
	res, err := s.decide(ctx, c, req, func(ctx context.Context) (mcp.Result, error) { return next(ctx, method, req) })
	if res == nil {
		return nil, err
	}
	return res, err
}
