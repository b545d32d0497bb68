package mcpkit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// buildDecision assembles, once at registration, the chain of the requests
// that are decided exactly as a resources/read or prompts/get of the entry
// but do not run its handler: resources/subscribe and resources/unsubscribe,
// a subscriptions/listen's resource URIs, and completion/complete.
//
//	outer middleware (audit) -> gates (scopes, flags, rate limits)
//	-> validate the URI's variables (not for completions: their values
//	   are partial by nature)
//	-> approval not grantable: an entry whose every read needs a human's
//	   approval is refused, since a subscription or a completion cannot be
//	   approved read by read
//	-> inner middleware -> pre-run steps -> Call.proceed (the SDK)
//
// with panic recovery around every layer.
func (s *Server) buildDecision(info *ToolInfo, decode func(json.RawMessage) (any, error)) Handler {
	h := recoverer(preRunStage(proceedStage))
	for i := len(s.inner) - 1; i >= 0; i-- {
		h = recoverer(s.inner[i](h))
	}
	decided := recoverer(noApprovalStage(h))
	validated := recoverer(validateStage(info, decode, decided))
	h = func(ctx context.Context, c *Call) (*mcp.CallToolResult, error) {
		if c.Operation == OpComplete {
			if c.argErr != nil {
				return c.Fail(c.argErr), nil
			}
			return decided(ctx, c)
		}
		return validated(ctx, c)
	}
	if len(s.gates) > 0 {
		h = recoverer(gateStage(s.gates, h))
	}
	return s.wrapOuter(recoverer(h))
}

// noApprovalStage refuses a request whose entry needs a human's approval
// for this input (for a completion, whose input is partial, a conditional
// rule counts as needing it): fail closed.
func noApprovalStage(next Handler) Handler {
	return func(ctx context.Context, c *Call) (*mcp.CallToolResult, error) {
		if c.NeedsApproval() {
			what := "subscribed to"
			if c.Operation == OpComplete {
				what = "completed"
			}
			return c.Fail(&Error{Code: CodeDeniedApproval,
				Message: fmt.Sprintf("%s needs a human's approval for each use, so it cannot be %s", c.Tool.Label(), what)}), nil
		}
		return next(ctx, c)
	}
}

// proceedStage hands a request every decision let through to the SDK and
// records its answer as the request's result.
func proceedStage(ctx context.Context, c *Call) (*mcp.CallToolResult, error) {
	if c.proceed == nil {
		return c.Fail(errors.New("no continuation for " + string(c.Operation))), nil
	}
	res, err := c.proceed(ctx)
	var refused *Error
	if errors.As(err, &refused) {
		// mcpkit's own last word (a bound), refused like a gate's.
		return c.Fail(err), nil
	}
	if err != nil {
		c.SetOutcome(OutcomeToolError, err)
		return nil, err
	}
	if res == nil {
		// Admitted, nothing to answer yet (a listen's URI).
		return &mcp.CallToolResult{StructuredContent: json.RawMessage(`{}`)}, nil
	}
	c.reply = res
	return c.record(res, res)
}

// newDecisionCall starts the Call of a request decided by an entry's
// decision chain (or refused as naming no entry).
func (s *Server) newDecisionCall(info *ToolInfo, op Operation, target string, req mcp.Request) *Call {
	c := &Call{Operation: op, Target: target, Tool: info, Server: s.impl, Start: time.Now()}
	if p := req.GetParams(); p != nil {
		c.RequestID = metaRequestID(p.GetMeta())
	}
	if pv, ok := req.(interface{ ProtocolVersion() string }); ok {
		c.ProtocolVersion = pv.ProtocolVersion()
	}
	if ss := req.GetSession(); ss != nil {
		c.SessionID = ss.ID()
	}
	return c
}

// decide runs c (a request naming a registered entry) through the entry's
// decision chain; proceed continues to the SDK when every decision let it
// through. It returns proceed's answer, or the refusal as the JSON-RPC
// error a refused read or get answers with. A nil answer with a nil error
// means admitted with nothing to answer (a listen's URI).
func (s *Server) decide(ctx context.Context, c *Call, req mcp.Request, proceed func(context.Context) (mcp.Result, error)) (mcp.Result, error) {
	ctx = context.WithValue(ctx, callKey{}, c)
	c.proceed = proceed
	var res *mcp.CallToolResult
	var err error
	if eerr := s.establish(ctx, c, req); eerr != nil {
		res, err = s.wrapOuter(func(context.Context, *Call) (*mcp.CallToolResult, error) { return c.Fail(eerr), nil })(ctx, c)
	} else {
		res, err = c.Tool.decide(ctx, c)
	}
	switch {
	case err != nil:
		return nil, err
	case res == nil:
		return nil, errors.New("no result")
	case res.IsError:
		return nil, refusal(c, res)
	}
	r, _ := c.reply.(mcp.Result)
	return r, nil
}

// refuseUnknown refuses, through the outer chain so that it is audited, a
// request naming a resource or prompt nobody registered with mcpkit: its
// target is the client's string, which the audit record redacts. The
// answer is invalid params, as for a read of an unknown URI.
func (s *Server) refuseUnknown(ctx context.Context, req mcp.Request, op Operation, kind Kind, target, message string) error {
	info := &ToolInfo{Kind: kind, Name: target, Unknown: true}
	outcome := OutcomeUnknownPrompt
	if kind != KindPrompt {
		info.URI = target
		outcome = OutcomeUnknownResource
	}
	c := s.newDecisionCall(info, op, target, req)
	ctx = context.WithValue(ctx, callKey{}, c)
	terminal := func(context.Context, *Call) (*mcp.CallToolResult, error) {
		c.SetOutcome(outcome, errors.New(message))
		return errorResult(message), nil
	}
	if err := s.establish(ctx, c, req); err != nil {
		terminal = func(context.Context, *Call) (*mcp.CallToolResult, error) { return c.Fail(err), nil }
	}
	res, err := s.wrapOuter(terminal)(ctx, c)
	switch {
	case err != nil:
		return err
	case res == nil:
		return errors.New("no result")
	case res.IsError:
		return refusal(c, res)
	}
	// An outer middleware answered in the chain's place; still refused.
	return &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: message}
}
