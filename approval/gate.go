package approval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"text/template"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// DeniedError is the internal cause recorded on a call the gate refused.
type DeniedError struct {
	Tool     string
	Decision Decision
	// Err is the approver's error, if it failed.
	Err error
}

func (e *DeniedError) Error() string {
	msg := fmt.Sprintf("approval %s for %s", e.Decision.Verdict, e.Tool)
	if e.Decision.Reason != "" {
		msg += ": " + e.Decision.Reason
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *DeniedError) Unwrap() error { return e.Err }

type gate struct {
	approver Approver
	cfg      config
}

// New returns the approval gate: an mcpkit.Middleware for
// mcpkit.WithInnerMiddleware, so that it runs after the arguments are
// validated and decoded. For each call whose tool policy requires approval
// (c.NeedsApproval) it asks a, and runs the handler only on
// VerdictApproved given before the deadline. Anything else (denied,
// timeout, unavailable, invalid state, an approver error) is a refusal with
// outcome denied_approval; every decision is recorded on Call.Approval.
func New(a Approver, opts ...Option) (mcpkit.Middleware, error) {
	if a == nil {
		return nil, errors.New("approval: New needs an Approver")
	}
	g := &gate{approver: a, cfg: config{
		timeout:   DefaultTimeout,
		progress:  DefaultProgressInterval,
		summaries: map[string]*template.Template{},
	}}
	for _, o := range opts {
		o(&g.cfg)
	}
	if err := errors.Join(g.cfg.errs...); err != nil {
		return nil, err
	}
	g.cfg.errs = nil
	if g.cfg.redactor == nil {
		r, err := audit.NewRedactor()
		if err != nil {
			return nil, err
		}
		g.cfg.redactor = r
	}
	return g.wrap, nil
}

// MustNew is New for tests and examples; it panics on a configuration
// error.
func MustNew(a Approver, opts ...Option) mcpkit.Middleware {
	mw, err := New(a, opts...)
	if err != nil {
		panic(err)
	}
	return mw
}

func (g *gate) wrap(next mcpkit.Handler) mcpkit.Handler {
	return func(ctx context.Context, c *mcpkit.Call) (*mcp.CallToolResult, error) {
		if !c.NeedsApproval() {
			return next(ctx, c)
		}
		start := time.Now()
		req, err := g.request(c, start)
		if err != nil {
			d := Decision{Verdict: VerdictUnavailable, Approver: "system", Reason: "could not build the approval request", At: start}
			return g.refuse(c, d, start, err), nil
		}
		d, err := g.ask(ctx, c, req)
		now := time.Now()
		switch {
		case err == nil && d.Verdict == VerdictApproved && decidedAt(d, now).After(req.Deadline):
			// A yes after the deadline does not count.
			d = Decision{Verdict: VerdictTimeout, Approver: "system", Reason: "the approval arrived after the deadline", At: now}
		case err == nil:
		case ctx.Err() != nil && !errors.Is(context.Cause(ctx), context.DeadlineExceeded) && !now.After(req.Deadline):
			d = Decision{Verdict: VerdictDenied, Approver: "system", Reason: "the call was cancelled before a decision", At: now}
		case errors.Is(err, context.DeadlineExceeded) || !now.Before(req.Deadline):
			d = Decision{Verdict: VerdictTimeout, Approver: "system", Reason: fmt.Sprintf("no decision within %v", g.cfg.timeout), At: now}
		default:
			d = Decision{Verdict: VerdictUnavailable, Approver: "system", Reason: "the approver failed", At: now}
		}
		switch d.Verdict {
		case VerdictApproved:
			record(c, d, start)
			return next(ctx, c)
		case VerdictPending:
			if d.Ask != nil {
				record(c, d, start)
				return d.Ask, nil
			}
			d = Decision{Verdict: VerdictUnavailable, Approver: "system", Reason: "the approver left the request pending without asking anyone", At: now}
		}
		return g.refuse(c, d, start, err), nil
	}
}

// ask runs the approver under the deadline, reporting progress meanwhile.
func (g *gate) ask(ctx context.Context, c *mcpkit.Call, req *Request) (Decision, error) {
	actx, cancel := context.WithDeadline(ctx, req.Deadline)
	defer cancel()
	stop := g.reportProgress(actx, c, req)
	defer stop()
	return g.approver.Approve(actx, req)
}

// decidedAt is when d was made, for the deadline check.
func decidedAt(d Decision, now time.Time) time.Time {
	if d.At.IsZero() || d.At.After(now) {
		return now
	}
	return d.At
}

func record(c *mcpkit.Call, d Decision, start time.Time) {
	at := d.At
	if at.IsZero() {
		at = time.Now()
	}
	c.Approval = &mcpkit.ApprovalDecision{
		Approver: d.Approver,
		Decision: string(d.Verdict),
		Reason:   d.Reason,
		Latency:  at.Sub(start),
	}
}

// refuse records d and returns the isError result the caller sees.
func (g *gate) refuse(c *mcpkit.Call, d Decision, start time.Time, cause error) *mcp.CallToolResult {
	if d.Verdict == VerdictApproved || d.Verdict == VerdictPending || d.Verdict == "" {
		d.Verdict = VerdictDenied
	}
	record(c, d, start)
	return c.Fail(&mcpkit.Error{
		Code:    mcpkit.CodeDeniedApproval,
		Message: g.message(c, d),
		Cause:   &DeniedError{Tool: c.Tool.Name, Decision: d, Err: cause},
	})
}

// message is what the caller (and the model) reads: what happened and what
// to do next.
func (g *gate) message(c *mcpkit.Call, d Decision) string {
	tool := c.Tool.Name
	reason := truncate(d.Reason, 300)
	switch d.Verdict {
	case VerdictTimeout:
		return fmt.Sprintf("%s was not run: it needs a human's approval and no one approved it within %v; an unanswered approval counts as a denial. Call it again when an approver is available.", tool, g.cfg.timeout)
	case VerdictUnavailable:
		msg := fmt.Sprintf("%s was not run: it needs a human's approval and none could be asked (%s).", tool, reason)
		if d.Hint != "" {
			msg += " " + d.Hint
		}
		return msg
	case VerdictInvalidState:
		return fmt.Sprintf("%s was not run: the approval state sent with this call is invalid (%s). Call the tool again without requestState or inputResponses to ask for a new approval.", tool, reason)
	}
	by := d.Approver
	if by == "" {
		by = "the approver"
	}
	if reason == "" {
		return fmt.Sprintf("%s was not run: approval was denied by %s.", tool, by)
	}
	return fmt.Sprintf("%s was not run: approval was denied by %s: %s.", tool, by, reason)
}

// request builds what the approver sees.
func (g *gate) request(c *mcpkit.Call, now time.Time) (*Request, error) {
	_, canonical, err := canonicalArguments(c.Arguments)
	if err != nil {
		return nil, err
	}
	// What anyone is shown is what the audit record holds: one redactor,
	// the tool's redact paths.
	red := g.cfg.redactor
	shown := red.JSON(canonical, c.Tool.Redact)
	var args map[string]any
	_ = json.Unmarshal(shown, &args)
	r := &Request{
		ID:         newNonce(),
		Tool:       c.Tool.Name,
		Title:      c.Tool.Title,
		Principal:  c.Identity,
		Arguments:  shown,
		ToolScopes: slices.Clone(c.Tool.Policy.Scopes),
		Rule:       c.Tool.Policy.Approval.String(),
		Created:    now,
		Deadline:   now.Add(g.cfg.timeout),
		Call:       c,
		digest:     argumentsDigest(canonical),
	}
	// A summary template may print an input field; credential shapes are
	// masked in it too.
	r.Summary = red.String(renderSummary(g.cfg.summaries[c.Tool.Name], summaryData{
		Tool: r.Tool, Title: r.Title, Principal: r.Principal, Arguments: args, Input: c.Input, Rule: r.Rule,
	}))
	return r, nil
}
