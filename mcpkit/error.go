package mcpkit

import (
	"errors"
	"fmt"
)

// Code classifies why a call did not succeed. Codes map one to one onto the
// audit outcomes.
type Code int

// Codes. The zero value is CodeInternal so that an unclassified failure is
// never mistaken for a denial or shown to the client.
const (
	// CodeInternal: a failure whose details must stay on the server.
	CodeInternal Code = iota
	// CodeTool: a failure the tool author chose to explain to the caller.
	CodeTool
	// CodeInvalidInput: the arguments do not match the input schema.
	CodeInvalidInput
	// CodeDeniedFlag: a feature flag turned the tool off for this caller.
	CodeDeniedFlag
	// CodeDeniedScope: the caller lacks a scope the policy requires.
	CodeDeniedScope
	// CodeDeniedApproval: no human approved the call (declined, timed out,
	// could not be asked, or the approval state was invalid).
	CodeDeniedApproval
	// CodeUnavailable: a dependency of a security decision (an audit sink,
	// a flag provider) could not answer, so the call was refused.
	CodeUnavailable
	// CodeResultTooLarge: the result was over the tool's size limit and
	// was not returned.
	CodeResultTooLarge
	// CodeDeniedRate: the caller is over a rate limit for this tool; the
	// message says when to retry.
	CodeDeniedRate
)

// Error is a failure with two faces: Message is safe to send to the client,
// Cause stays on the server (audit record, logs). Error() returns only the
// safe message, so wrapping it with %w cannot leak the cause.
type Error struct {
	Code    Code
	Message string
	Cause   error
}

// Error returns the client-safe message.
func (e *Error) Error() string { return e.Message }

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.Cause }

// PublicError returns an error whose message the caller sees as written: use
// it for failures the model can act on ("incident INC-9 not found").
func PublicError(format string, args ...any) *Error {
	return &Error{Code: CodeTool, Message: fmt.Sprintf(format, args...)}
}

// ResourceNotFound returns the error a resource handler returns when the
// resource its URI names does not exist. The reader gets the protocol's
// resource-not-found error (-32602, invalid params, since the 2026-07-28
// revision; the SDK's mcp.CodeResourceNotFound is deprecated for it)
// instead of a refusal, so a client can tell "no such incident" from "you
// may not read it"; the audit outcome is tool_error.
func ResourceNotFound(uri string) *Error {
	return &Error{Code: CodeTool, Message: "resource not found: " + uri, Cause: errResourceNotFound}
}

// errResourceNotFound marks ResourceNotFound's errors for the refusal's code.
var errResourceNotFound = errors.New("resource not found")

// NewError returns an error with the given code, client-safe message and
// internal cause (which may be nil).
func NewError(code Code, message string, cause error) *Error {
	return &Error{Code: code, Message: message, Cause: cause}
}

// genericMessage is what the client sees for an internal failure.
const genericMessage = "internal error: the tool failed; the details are in the server's audit record"

// AsError classifies any error: an *Error anywhere in the chain keeps its
// code and message; anything else becomes CodeInternal with a generic
// message and err as the cause.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: CodeInternal, Message: genericMessage, Cause: err}
}
