package mcpkit

import (
	"context"
	"fmt"
	"reflect"
	"slices"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// PromptFunc renders a prompt: In holds the arguments, mapped from the
// strings the protocol carries onto In's field types and validated against
// In's schema before the function runs.
type PromptFunc[In any] func(ctx context.Context, in In) ([]*mcp.PromptMessage, error)

// Prompt describes a prompt to register.
type Prompt struct {
	// Name is lower snake_case and unique among the prompts.
	Name string
	// Title is an optional display name.
	Title string
	// Description is one paragraph telling the user what the prompt does.
	Description string
	// Policy is required as for a tool; Risk may be left zero (getting a
	// prompt changes nothing) and cannot be more than ReadOnly.
	Policy Policy
}

// AddPrompt registers a typed prompt on s. Its arguments (name,
// description, required) are generated from In, whose fields must be
// strings, numbers, integers or booleans: prompt arguments are strings on
// the wire. A get with a missing, unknown or ill-typed argument is refused
// as invalid input, audited, and the function does not run.
func AddPrompt[In any](s *Server, p Prompt, fn PromptFunc[In]) error {
	if fn == nil {
		return fmt.Errorf("mcpkit: prompt %q: handler is nil", p.Name)
	}
	info, err := s.newEntryInfo(entrySpec{kind: KindPrompt, name: p.Name, title: p.Title, description: p.Description,
		policy: p.Policy, in: reflect.TypeFor[In]()})
	if err != nil {
		return err
	}
	typed := func(ctx context.Context, c *Call) (*mcp.CallToolResult, error) {
		in, _ := c.Input.(In)
		msgs, err := fn(ctx, in)
		if err != nil {
			return c.Fail(err), nil
		}
		if len(msgs) == 0 {
			return c.Fail(fmt.Errorf("%s returned no messages", c.Tool.Label())), nil
		}
		if i := slices.Index(msgs, nil); i >= 0 {
			return c.Fail(fmt.Errorf("%s returned a nil message at %d", c.Tool.Label(), i)), nil
		}
		res := &mcp.GetPromptResult{Description: c.Tool.Description, Messages: msgs}
		return c.record(res, struct {
			Messages []*mcp.PromptMessage `json:"messages"`
		}{msgs})
	}
	return s.registerEntry(info, typed, typedDecode[In])
}

// MustAddPrompt is AddPrompt for start-up code: it panics on a
// registration error.
func MustAddPrompt[In any](s *Server, p Prompt, fn PromptFunc[In]) {
	if err := AddPrompt(s, p, fn); err != nil {
		panic(err)
	}
}

// promptHandlerFor adapts a prompt's chain to the SDK.
func (s *Server) promptHandlerFor(info *ToolInfo) mcp.PromptHandler {
	return func(ctx context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
		c := s.newEntryCall(info, OpGetPrompt, info.Name, req)
		var vals map[string]string
		if req != nil && req.Params != nil {
			vals = req.Params.Arguments
		}
		c.Arguments = stringArguments(info.argTypes, vals)
		res, err := s.runEntry(ctx, c, req)
		return replyOf(s, c, res, err,
			func(r *mcp.CallToolResult) *mcp.GetPromptResult {
				return &mcp.GetPromptResult{InputRequests: r.InputRequests, RequestState: r.RequestState}
			},
			func(*mcp.GetPromptResult) *mcp.Cacheable { return nil })
	}
}
