package mcpkit

import (
	"context"
	"errors"
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
// does not hold. NewServer installs it by default (see
// WithoutScopeEnforcement); passing it to WithGates only chooses where it
// runs among the other gates, it is never asked twice.
func ScopeGate() Gate { return scopeGate{} }

// scopeGate is a comparable type so that NewServer can tell whether the
// caller already placed it.
type scopeGate struct{}

func (scopeGate) Check(_ context.Context, c *Call) error {
	missing := c.Identity.MissingScopes(c.Tool.Policy.Scopes...)
	if len(missing) == 0 {
		return nil
	}
	return &Error{
		Code: CodeDeniedScope,
		Message: fmt.Sprintf("%s requires scope %s, which your credentials do not grant",
			c.Tool.Label(), strings.Join(missing, " ")),
		Cause: &ScopeError{Missing: missing},
	}
}

// resolveScopeGate places the scope gate: first when the caller did not
// (a caller without a tool's scopes learns nothing from later gates, such
// as whether its flag is on), once at most, and not at all when scope
// enforcement was turned off.
func resolveScopeGate(gates []Gate, enforce bool) ([]Gate, error) {
	placed := 0
	out := make([]Gate, 0, len(gates)+1)
	for _, g := range gates {
		if g == nil {
			return nil, errors.New("mcpkit: WithGates: a gate is nil")
		}
		if _, ok := g.(scopeGate); ok {
			if placed++; placed > 1 {
				continue
			}
		}
		out = append(out, g)
	}
	switch {
	case !enforce && placed > 0:
		return nil, errors.New("mcpkit: WithoutScopeEnforcement and WithGates(ScopeGate()) contradict each other; choose one")
	case enforce && placed == 0:
		out = append([]Gate{scopeGate{}}, out...)
	}
	return out, nil
}

// ScopeError is the cause of a scope denial; transports read it to answer
// with an insufficient_scope challenge.
type ScopeError struct {
	Missing []string
}

func (e *ScopeError) Error() string {
	return "missing scopes: " + strings.Join(e.Missing, " ")
}
