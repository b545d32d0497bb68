package mcpkit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// build assembles a tool's chain once, at registration:
//
//	outer middleware (audit) -> input-round marker -> result size limit
//	-> gates (scopes, flags)
//	-> validate + decode -> inner middleware (approval) -> pre-run steps
//	-> typed handler
//
// with panic recovery around every layer.
func (s *Server) build(info *ToolInfo, typed Handler, decode func(json.RawMessage) (any, error)) Handler {
	h := recoverer(preRunStage(typed))
	for i := len(s.inner) - 1; i >= 0; i-- {
		h = recoverer(s.inner[i](h))
	}
	h = recoverer(validateStage(info, decode, h))
	if len(s.gates) > 0 {
		h = recoverer(gateStage(s.gates, h))
	}
	return s.wrapOuter(recoverer(inputRoundStage(recoverer(limitStage(info.MaxResultBytes, h)))))
}

// preRunStage runs the steps middleware registered with Call.BeforeRun,
// then the handler. A failing step refuses the call as a gate would.
func preRunStage(next Handler) Handler {
	return func(ctx context.Context, c *Call) (*mcp.CallToolResult, error) {
		for _, f := range c.preRun {
			if err := f(ctx, c); err != nil {
				return c.Fail(denial(c, err)), nil
			}
		}
		c.ran = true
		return next(ctx, c)
	}
}

// inputRoundStage records OutcomeInputRequired on a call answered with
// input requests and nothing else to say about it, so that the layers
// outside (audit) never see such a round as ok.
func inputRoundStage(next Handler) Handler {
	return func(ctx context.Context, c *Call) (*mcp.CallToolResult, error) {
		res, err := next(ctx, c)
		if err == nil && res != nil && len(res.InputRequests) > 0 && c.outcome == "" {
			c.outcome = OutcomeInputRequired
		}
		return res, err
	}
}

func (s *Server) wrapOuter(h Handler) Handler {
	for i := len(s.outer) - 1; i >= 0; i-- {
		h = recoverer(s.outer[i](h))
	}
	return h
}

// handlerFor adapts a tool's chain to the SDK's raw tool handler.
func (s *Server) handlerFor(info *ToolInfo) mcp.ToolHandler {
	return func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		c := s.newCall(ctx, info, req)
		ctx = context.WithValue(ctx, callKey{}, c)
		if err := s.establish(ctx, c, req); err != nil {
			// No identity, no call: still through the outer chain so
			// that the refusal is audited.
			return s.wrapOuter(func(context.Context, *Call) (*mcp.CallToolResult, error) {
				return c.Fail(err), nil
			})(ctx, c)
		}
		return info.chain(ctx, c)
	}
}

func (s *Server) sdkTool(info *ToolInfo) *mcp.Tool {
	t := &mcp.Tool{
		Name:        info.Name,
		Title:       info.Title,
		Description: info.Description,
		InputSchema: info.InputSchema,
		Annotations: info.Annotations,
	}
	if info.OutputSchema != nil {
		t.OutputSchema = info.OutputSchema
	}
	return t
}

func (s *Server) newCall(ctx context.Context, info *ToolInfo, req *mcp.CallToolRequest) *Call {
	c := &Call{
		Operation: OpCallTool,
		Target:    info.Name,
		Tool:      info,
		Server:    s.impl,
		Request:   req,
		Start:     time.Now(),
	}
	if req != nil {
		if req.Params != nil {
			c.Arguments = req.Params.Arguments
			c.RequestID = requestIDOf(req.Params)
		}
		c.ProtocolVersion = req.ProtocolVersion()
		if req.Session != nil {
			c.SessionID = req.Session.ID()
		}
	}
	return c
}

// establish resolves the caller's identity onto c. A resolver that panics
// refuses the call like one that errors.
func (s *Server) establish(ctx context.Context, c *Call, req mcp.Request) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &Error{Code: CodeUnavailable, Message: "the server could not establish who you are; the call was refused", Cause: &PanicError{Value: v}}
		}
	}()
	id, err := s.identityFor(ctx, req)
	if err != nil {
		return &Error{Code: CodeUnavailable, Message: "the server could not establish who you are; the call was refused", Cause: err}
	}
	c.Identity = id
	return nil
}

// validateStage validates the raw arguments against the input schema, then
// decodes them into the tool's In type. Nothing past it sees an argument
// the schema refuses.
func validateStage(info *ToolInfo, decode func(json.RawMessage) (any, error), next Handler) Handler {
	schema := info.input
	return func(ctx context.Context, c *Call) (*mcp.CallToolResult, error) {
		if c.argErr != nil {
			return c.Fail(c.argErr), nil
		}
		m, err := parseArguments(c.Arguments)
		if err != nil {
			return c.Fail(err), nil
		}
		if err := schema.resolved.Validate(m); err != nil {
			return c.Fail(validationError(schema.tree, m, err)), nil
		}
		raw := bytes.TrimSpace(c.Arguments)
		if schema.hasDefaults {
			var withDefaults any = m
			if err := schema.resolved.ApplyDefaults(&withDefaults); err != nil {
				return c.Fail(fmt.Errorf("apply defaults: %w", err)), nil
			}
			if raw, err = json.Marshal(withDefaults); err != nil {
				return c.Fail(fmt.Errorf("apply defaults: %w", err)), nil
			}
		}
		if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
			raw = []byte("{}")
		}
		in, err := decode(raw)
		if err != nil {
			return c.Fail(decodeError(err)), nil
		}
		c.Input = in
		return next(ctx, c)
	}
}

// decodeError explains a typed decode failure the schema did not catch
// (1e2 for an int, a number past the Go type's range).
func decodeError(err error) *Error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return &Error{Code: CodeInvalidInput, Cause: err,
			Message: fmt.Sprintf("invalid arguments: arguments.%s: must be a value that fits %s (got %s)", te.Field, te.Type, te.Value)}
	}
	return &Error{Code: CodeInvalidInput, Cause: err, Message: "invalid arguments: " + cleanJSONError(err)}
}

// gateStage asks each gate in turn; the first refusal ends the call.
func gateStage(gates []Gate, next Handler) Handler {
	return func(ctx context.Context, c *Call) (*mcp.CallToolResult, error) {
		for _, g := range gates {
			if err := g.Check(ctx, c); err != nil {
				return c.Fail(denial(c, err)), nil
			}
		}
		c.ran = true
		return next(ctx, c)
	}
}

// denial keeps a gate's deliberate refusal and turns any other gate failure
// into a refusal too: a gate that cannot decide says no.
func denial(c *Call, err error) error {
	var e *Error
	if errors.As(err, &e) && e.Code != CodeInternal && e.Code != CodeTool {
		return err
	}
	return &Error{
		Code:    CodeUnavailable,
		Message: fmt.Sprintf("%s is unavailable: a policy check could not be completed, so the call was refused", c.Tool.Label()),
		Cause:   err,
	}
}
