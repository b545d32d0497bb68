package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/internal/wire"
	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// Gate limits calls per caller (Identity.Subject) and per tool or risk
// class, as its Rules say. It is an mcpkit.Gate: install it first in
// mcpkit.WithGates, before ScopeGate, so that a call another gate refuses
// has been counted (a caller hammering refusals is what a limit is for).
//
// On tools/list it allows everything: a limited tool is only busy for a
// while, not forbidden, so it stays listed and listing costs no budget.
type Gate struct {
	limiter Limiter
	rules   Rules
	// fallback, if set (WithFallback), decides some classes locally while
	// limiter fails.
	fallback *fallback
}

var _ mcpkit.Gate = (*Gate)(nil)

// NewGate returns a gate counting calls in limiter under rules. Without
// WithFallback a limiter error refuses the call (fail closed).
func NewGate(limiter Limiter, rules Rules, opts ...Option) (*Gate, error) {
	cfg := gateConfig{}
	for _, o := range opts {
		o(&cfg)
	}
	errs := cfg.errs
	if limiter == nil {
		errs = append(errs, errors.New("ratelimit: NewGate needs a limiter, got nil"))
	}
	if err := rules.check(); err != nil {
		errs = append(errs, fmt.Errorf("ratelimit: NewGate: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	g := &Gate{limiter: limiter, rules: rules}
	if cfg.fallback != nil {
		logger := cfg.logger
		if logger == nil {
			logger = slog.New(slog.DiscardHandler)
		}
		fb, err := newFallback(cfg.fallback, logger)
		if err != nil {
			return nil, err
		}
		g.fallback = fb
	} else if cfg.logger != nil {
		return nil, errors.New("ratelimit: WithLogger without WithFallback: only the fallback logs")
	}
	return g, nil
}

// Rules returns the gate's rules.
func (g *Gate) Rules() Rules { return g.rules }

// LimitedError is the cause of a rate-limit refusal.
type LimitedError struct {
	// Tool is the tool called; Bucket the budget it counts against
	// ("class:write", "tool:delete_incident").
	Tool, Bucket string
	Limit        Limit
	// RetryAfter is how long until one more call would be allowed.
	RetryAfter time.Duration
}

func (e *LimitedError) Error() string {
	return fmt.Sprintf("rate limit %s of %s exceeded; retry after %v", e.Limit, e.Bucket, e.RetryAfter)
}

// RetrySeconds is RetryAfter in whole seconds, rounded up, at least 1: the
// value of an HTTP Retry-After header.
func (e *LimitedError) RetrySeconds() int {
	return max(1, int(math.Ceil(e.RetryAfter.Seconds())))
}

// Check implements mcpkit.Gate: nil on a list request (c.Listing), else
// Admit's answer, unless the HTTP transport already admitted this very
// call. Resource reads and prompt gets count like calls, against their
// name's limit or their class's (read-only).
func (g *Gate) Check(ctx context.Context, c *mcpkit.Call) error {
	if c.Tool == nil || c.Listing() || g.admittedByTransport(c) {
		return nil
	}
	return g.Admit(ctx, c.Identity, c.Tool)
}

// Admit counts one call of tool by id and returns nil when it is within
// its limit. Over the limit it returns an *mcpkit.Error with code
// CodeDeniedRate, a message saying when to retry, and a *LimitedError
// cause. A limiter failure is returned as is: the server refuses the
// call as unavailable (fail closed). A transport that decides before the
// server runs uses AdmitBefore instead, whose mark keeps the gate from
// counting the call a second time.
func (g *Gate) Admit(ctx context.Context, id mcpkit.Identity, tool *mcpkit.ToolInfo) error {
	ch, limited := g.rules.chargeFor(id, tool)
	if !limited {
		return nil
	}
	var d Decision
	var err error
	if g.fallback != nil {
		d, err = g.fallback.allow(ctx, g.limiter, ch.key, ch.limit, ch.risk)
	} else {
		d, err = g.limiter.Allow(ctx, ch.key, ch.limit)
	}
	if err != nil {
		return fmt.Errorf("rate limiter: %w", err)
	}
	if d.Allowed {
		return nil
	}
	le := &LimitedError{Tool: tool.Name, Bucket: ch.bucket, Limit: ch.limit, RetryAfter: d.RetryAfter}
	return &mcpkit.Error{
		Code: mcpkit.CodeDeniedRate,
		Message: fmt.Sprintf("%s was not run: you are over the rate limit for %s (%s per caller); retry in %d seconds",
			tool.Label(), ch.what, ch.limit, le.RetrySeconds()),
		Cause: le,
	}
}

// AdmitBefore is Admit for a layer that decides a call before the server
// runs (transport.WithRateLimit answers 429 itself). When the call is
// admitted it also returns the mark to hand the server with the request
// (the transport puts it in the request's token info), by which Check
// recognises the call as charged already.
func (g *Gate) AdmitBefore(ctx context.Context, id mcpkit.Identity, tool *mcpkit.ToolInfo) (*Admission, error) {
	if err := g.Admit(ctx, id, tool); err != nil {
		return nil, err
	}
	a := g.admission(tool)
	return &a, nil
}

// admittedByTransport reports whether the HTTP transport charged and
// admitted this very call already (AdmitBefore, transport.WithRateLimit).
func (g *Gate) admittedByTransport(c *mcpkit.Call) bool {
	var extra *mcp.RequestExtra
	switch {
	case c.Request != nil:
		extra = c.Request.Extra
	case c.ResourceRequest != nil:
		extra = c.ResourceRequest.Extra
	case c.PromptRequest != nil:
		extra = c.PromptRequest.Extra
	}
	if extra == nil || extra.TokenInfo == nil {
		return false
	}
	a, ok := extra.TokenInfo.Extra[wire.TokenRateAdmittedKey].(*Admission)
	return ok && a != nil && *a == g.admission(c.Tool)
}
