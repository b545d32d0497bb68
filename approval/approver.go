package approval

import (
	"context"
	"encoding/json"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// Verdict is the kind of a decision. The values are the audit record's
// approval.decision field.
type Verdict string

// Verdicts. Only VerdictApproved lets the handler run.
const (
	VerdictApproved Verdict = "approved"
	VerdictDenied   Verdict = "denied"
	// VerdictTimeout: nobody decided before the deadline.
	VerdictTimeout Verdict = "timeout"
	// VerdictUnavailable: no approver could be asked.
	VerdictUnavailable Verdict = "unavailable"
	// VerdictInvalidState: the approval state the client sent back was
	// forged, replayed, expired or bound to another call.
	VerdictInvalidState Verdict = "invalid_state"
	// VerdictPending: the approver asked the calling client and the call
	// ends for now with input requests; the client's retry carries the
	// answer.
	VerdictPending Verdict = "pending"
)

// Request is what an approver is asked to decide.
type Request struct {
	// ID identifies the request (random, unguessable).
	ID string `json:"id"`
	// Tool is the tool's name; Title its display name.
	Tool  string `json:"tool"`
	Title string `json:"title,omitempty"`
	// Principal is the caller asking to run the tool.
	Principal mcpkit.Identity `json:"principal"`
	// Arguments are the call's arguments redacted exactly as the audit
	// record has them (the tool's redact paths, secret-named keys,
	// credential-shaped values): safe to show to a reviewer or post to a
	// chat.
	Arguments json.RawMessage `json:"arguments"`
	// ToolScopes are the scopes the tool's policy requires of a caller,
	// for approver rules with ToolScopes.
	ToolScopes []string `json:"tool_scopes,omitempty"`
	// Summary is the human-readable sentence a reviewer decides on.
	Summary string `json:"summary"`
	// Rule is the tool's approval rule in words.
	Rule string `json:"rule"`
	// Created and Deadline bound the request: no decision after Deadline
	// counts.
	Created  time.Time `json:"created"`
	Deadline time.Time `json:"deadline"`
	// ConsoleURL is where a reviewer can decide, when a Console holds the
	// request.
	ConsoleURL string `json:"console_url,omitempty"`
	// Seal is the MAC a Console with Keys puts on the request it adds
	// (see Keyring.SealRequest): consoles show and decide only requests
	// whose seal verifies.
	Seal string `json:"seal,omitempty"`

	// Call is the call being approved, for approvers that talk to the
	// calling client (elicitation). It is nil for requests read back from
	// a store.
	Call *mcpkit.Call `json:"-"`
	// digest is the SHA-256 of the canonical (unredacted) arguments.
	digest string
}

// Decision is an approver's answer.
type Decision struct {
	Verdict Verdict `json:"decision"`
	// Approver is who decided: a subject, or "system" when nobody did.
	Approver string `json:"approver,omitempty"`
	// Reason is the approver's note or why no one decided.
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
	// Seal is the MAC a Console with Keys puts on its decision, binding
	// it to the request decided and to the reviewer; the waiting call
	// runs only on a decision whose seal verifies.
	Seal string `json:"seal,omitempty"`
	// Ask is set with VerdictPending: the result (input requests and
	// request state) that asks the calling client, returned as the call's
	// result.
	Ask *mcp.CallToolResult `json:"-"`
	// Hint tells the caller how to obtain approval when it could not be
	// asked (VerdictUnavailable), for example through a console.
	Hint string `json:"-"`
}

// Approver decides approval requests. Approve returns when a decision is
// made, the request's deadline passes or ctx ends; the gate treats an error,
// a late answer and anything but VerdictApproved as "no".
type Approver interface {
	Approve(ctx context.Context, r *Request) (Decision, error)
}

// ApproverFunc adapts a function to Approver.
type ApproverFunc func(ctx context.Context, r *Request) (Decision, error)

// Approve calls f.
func (f ApproverFunc) Approve(ctx context.Context, r *Request) (Decision, error) { return f(ctx, r) }

// AlwaysApprove approves every request in the name of approver, for tests and
// local development. Never use it in production: it makes the gate a no-op.
func AlwaysApprove(approver string) Approver {
	return ApproverFunc(func(context.Context, *Request) (Decision, error) {
		return Decision{Verdict: VerdictApproved, Approver: approver, Reason: "static approver", At: time.Now()}, nil
	})
}

// AlwaysDeny denies every request with reason.
func AlwaysDeny(reason string) Approver {
	return ApproverFunc(func(context.Context, *Request) (Decision, error) {
		return Decision{Verdict: VerdictDenied, Approver: "system", Reason: reason, At: time.Now()}, nil
	})
}

// FirstAvailable asks each approver in turn until one can be asked: an
// approver that answers VerdictUnavailable passes the request on. Use it to
// ask in the client when it can elicit and fall back to a console otherwise.
func FirstAvailable(approvers ...Approver) Approver {
	return ApproverFunc(func(ctx context.Context, r *Request) (Decision, error) {
		last := Decision{Verdict: VerdictUnavailable, Approver: "system", Reason: "no approver configured", At: time.Now()}
		var hints []string
		for _, a := range approvers {
			d, err := a.Approve(ctx, r)
			if err != nil {
				return d, err
			}
			if d.Verdict != VerdictUnavailable {
				return d, nil
			}
			if d.Hint != "" {
				hints = append(hints, d.Hint)
			}
			last = d
		}
		if len(hints) > 0 {
			last.Hint = hints[len(hints)-1]
		}
		return last, nil
	})
}
