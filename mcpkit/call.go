package mcpkit

import (
	"context"
	"encoding/json"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Outcome is how a tool call ended. The values are the audit record's
// outcome field.
type Outcome string

// Outcomes.
const (
	OutcomeOK             Outcome = "ok"
	OutcomeToolError      Outcome = "tool_error"
	OutcomeInvalidInput   Outcome = "invalid_input"
	OutcomeDeniedFlag     Outcome = "denied_flag"
	OutcomeDeniedScope    Outcome = "denied_scope"
	OutcomeDeniedApproval Outcome = "denied_approval"
	OutcomeUnavailable    Outcome = "unavailable"
	OutcomePanic          Outcome = "panic"
	OutcomeUnknownTool    Outcome = "unknown_tool"
	// OutcomeInputRequired: the call ran nothing and answered with input
	// requests (an approval prompt); the client's answer comes back as a
	// new call. Never recorded as ok, because nothing ran.
	OutcomeInputRequired Outcome = "input_required"
	// OutcomeResultTooLarge: the result was over the tool's size limit
	// and was replaced by an error (see DefaultMaxResultBytes).
	OutcomeResultTooLarge Outcome = "result_too_large"
	// OutcomeDeniedRate: the caller was over a rate limit for the tool
	// (see package ratelimit); nothing ran.
	OutcomeDeniedRate Outcome = "denied_rate"
	// OutcomeUnknownResource: a resources/read of a URI no registered
	// resource or template matches (nor one added to the SDK server).
	OutcomeUnknownResource Outcome = "unknown_resource"
	// OutcomeUnknownPrompt: a prompts/get of a prompt nobody registered.
	OutcomeUnknownPrompt Outcome = "unknown_prompt"
)

func outcomeFor(c Code) Outcome {
	switch c {
	case CodeInvalidInput:
		return OutcomeInvalidInput
	case CodeDeniedFlag:
		return OutcomeDeniedFlag
	case CodeDeniedScope:
		return OutcomeDeniedScope
	case CodeDeniedApproval:
		return OutcomeDeniedApproval
	case CodeUnavailable:
		return OutcomeUnavailable
	case CodeResultTooLarge:
		return OutcomeResultTooLarge
	case CodeDeniedRate:
		return OutcomeDeniedRate
	}
	return OutcomeToolError
}

// Call is one tools/call as it travels the middleware chain. Middlewares read
// it and record on it; the audit record is built from it.
//
// A Call is owned by the goroutine serving the request; a middleware that
// hands it to another goroutine must wait for that goroutine before
// returning.
type Call struct {
	// Operation is the MCP method served: tools/call, resources/read,
	// prompts/get, or a list request asking the gates about one entry.
	Operation Operation
	// Target is what the operation names: the tool's or prompt's name as
	// the client sent it, or the resource URI it asked to read.
	Target string
	// Tool is the registered entry (tool, resource, resource template or
	// prompt; see ToolInfo.Kind). For a request naming something mcpkit
	// did not register it is a stand-in whose Unknown field is true.
	Tool *ToolInfo
	// Arguments are the raw JSON arguments as received.
	Arguments json.RawMessage
	// Input is the decoded In value. It is nil until the built-in
	// validation has run, so only inner middleware (WithInnerMiddleware)
	// and the handler see it.
	Input any
	// Identity is the caller.
	Identity Identity
	// SessionID is the MCP session id; empty on stdio, in-memory and
	// stateless HTTP.
	SessionID string
	// ProtocolVersion is the protocol version of this request.
	ProtocolVersion string
	// RequestID is the JSON-RPC id of the tools/call when the transport
	// supplies it (mcpkit's stdio and HTTP transports do); empty
	// otherwise.
	RequestID string
	// Server names the server answering.
	Server *mcp.Implementation
	// Request is the SDK request of a tools/call, for what mcpkit does
	// not surface; nil for other operations.
	Request *mcp.CallToolRequest
	// ResourceRequest is the SDK request of a resources/read; nil for
	// other operations.
	ResourceRequest *mcp.ReadResourceRequest
	// PromptRequest is the SDK request of a prompts/get; nil for other
	// operations.
	PromptRequest *mcp.GetPromptRequest
	// Start is when the server began serving the call.
	Start time.Time
	// Approval is set by the approval gate with the human decision.
	Approval *ApprovalDecision

	outcome Outcome
	err     error
	// argErr is why a resource URI's variables or a prompt's arguments
	// could not be mapped onto the input's JSON; the validation stage
	// refuses the request with it.
	argErr error
	// reply is the resources/read or prompts/get result the handler
	// produced, handed back to the SDK after the chain.
	reply any
	// proceed continues a request decided by an entry's decision chain
	// (buildDecision) to the SDK, once every decision let it through.
	proceed func(ctx context.Context) (mcp.Result, error)
	stack   []byte
	preRun  []PreRun
	ran     bool
}

// PreRun is a step that runs immediately before the tool's handler. An
// error refuses the call: the handler does not run.
type PreRun func(ctx context.Context, c *Call) error

// BeforeRun registers f to run immediately before the handler, once every
// gate, the validation and every inner middleware (approval) have let the
// call through; a call refused or answered earlier never runs it. This is
// where a write-ahead record belongs. Steps run in registration order; the
// first that fails refuses the call (an *Error keeps its code and message,
// anything else is reported as unavailable) and the handler does not run.
// Register steps before calling next, from the goroutine serving the call.
func (c *Call) BeforeRun(f PreRun) {
	if f != nil {
		c.preRun = append(c.preRun, f)
	}
}

// ApprovalDecision is the approval gate's record of a decision.
type ApprovalDecision struct {
	// Approver is who decided (a subject, or "system" for timeouts).
	Approver string `json:"approver,omitempty"`
	// Decision is "approved", "denied", "timeout", "unavailable" or
	// "invalid_state".
	Decision string `json:"decision"`
	Reason   string `json:"reason,omitempty"`
	// Latency is how long the decision took.
	Latency time.Duration `json:"-"`
}

// Outcome returns how the call ended so far. It is OutcomeOK until something
// records otherwise.
func (c *Call) Outcome() Outcome {
	if c.outcome == "" {
		return OutcomeOK
	}
	return c.outcome
}

// Err returns the internal cause recorded for a failed call: the full error,
// for the audit record only.
func (c *Call) Err() error { return c.err }

// PanicStack returns the stack of a recovered panic, if any.
func (c *Call) PanicStack() []byte { return c.stack }

// NeedsApproval reports whether the tool's approval rule asks for a human on
// this call. Before decoding (Input nil) a conditional rule answers true.
func (c *Call) NeedsApproval() bool {
	if c.Tool == nil {
		return true
	}
	return c.Tool.Policy.Approval.Requires(c.Input)
}

// Fail records err on the call and returns the isError result the client
// sees: an *Error's safe message, or a generic one for anything else. The
// outcome follows the error's code.
func (c *Call) Fail(err error) *mcp.CallToolResult {
	e := AsError(err)
	c.outcome = outcomeFor(e.Code)
	c.err = err
	return errorResult(e.Message)
}

// SetOutcome records an outcome and cause without building a result, for
// middleware that produce their own.
func (c *Call) SetOutcome(o Outcome, cause error) {
	c.outcome = o
	c.err = cause
}

func errorResult(msg string) *mcp.CallToolResult {
	return &mcp.CallToolResult{
		IsError: true,
		Content: []mcp.Content{&mcp.TextContent{Text: msg}},
	}
}

type callKey struct{}

// CallFromContext returns the call being served, for code below the handler
// (a repository, a client library) that needs the caller's identity.
func CallFromContext(ctx context.Context) (*Call, bool) {
	c, ok := ctx.Value(callKey{}).(*Call)
	return c, ok
}
