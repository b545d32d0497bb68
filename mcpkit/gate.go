package mcpkit

import (
	"context"
	"fmt"
	"strings"
)

// Gate decides whether a caller may use a tool. The server asks the same
// gates for tools/list (a tool any gate refuses is hidden) and for tools/call
// (the call is refused), so a hidden tool cannot be called by guessing its
// name.
//
// Check must not depend on the call's arguments: on tools/list there are
// none (c.Arguments and c.Request are nil there). It returns nil to allow; an *Error with a Denied code to deny with a
// message for the client; any other error denies too (fail closed) with a
// generic message.
type Gate interface {
	Check(ctx context.Context, c *Call) error
}

// GateFunc adapts a function to Gate.
type GateFunc func(ctx context.Context, c *Call) error

// Check calls f.
func (f GateFunc) Check(ctx context.Context, c *Call) error { return f(ctx, c) }

// ScopeGate hides and refuses tools whose policy requires scopes the caller
// does not hold.
func ScopeGate() Gate {
	return GateFunc(func(_ context.Context, c *Call) error {
		missing := c.Identity.MissingScopes(c.Tool.Policy.Scopes...)
		if len(missing) == 0 {
			return nil
		}
		return &Error{
			Code: CodeDeniedScope,
			Message: fmt.Sprintf("tool %s requires scope %s, which your credentials do not grant",
				c.Tool.Name, strings.Join(missing, " ")),
			Cause: &ScopeError{Missing: missing},
		}
	})
}

// ScopeError is the cause of a scope denial; transports read it to answer
// with an insufficient_scope challenge.
type ScopeError struct {
	Missing []string
}

func (e *ScopeError) Error() string {
	return "missing scopes: " + strings.Join(e.Missing, " ")
}
