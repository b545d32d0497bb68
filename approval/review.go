package approval

import (
	"context"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// ReviewOutcome is what became of a reviewer's request to the console. The
// values are the audit record's outcome field.
type ReviewOutcome string

// Review outcomes.
const (
	// ReviewUnauthenticated: no valid credentials (401).
	ReviewUnauthenticated ReviewOutcome = audit.OutcomeUnauthenticated
	// ReviewRefused: the reviewer does not meet the approver rule, or
	// tried to approve their own call (403).
	ReviewRefused ReviewOutcome = audit.OutcomeReviewRefused
	// ReviewApproved and ReviewDenied: a decision reached the waiting call.
	ReviewApproved ReviewOutcome = audit.OutcomeReviewApproved
	ReviewDenied   ReviewOutcome = audit.OutcomeReviewDenied
	// ReviewNotWaiting: a decision for a request no call waits for (404,
	// 409); nothing was applied. It also follows the ReviewApproved or
	// ReviewDenied record of a decision a DeliveryConfirmer's waiting call
	// did not take in time (409, Error says so): withdrawn, never applied.
	ReviewNotWaiting ReviewOutcome = audit.OutcomeReviewNotWaiting
	// ReviewTampered: the request failed its seal check (changed in the
	// store outside the consoles); it was not shown or decided.
	ReviewTampered ReviewOutcome = audit.OutcomeReviewTampered
)

// Review is one console event: who asked for what and what the console
// answered.
type Review struct {
	Outcome ReviewOutcome
	// Reviewer is who used the console; zero when unauthenticated.
	Reviewer mcpkit.Identity
	// Action is page, script, list, approve or deny.
	Action string
	// Status is the HTTP status sent.
	Status int
	// RequestID is the request named in the path, if any; Request is it
	// when the console holds it (arguments already redacted).
	RequestID string
	Request   *Request
	// Reason is the reviewer's note on a decision.
	Reason string
	// Error says why the console refused or did not apply the request.
	Error string
	Time  time.Time
	// Network is the connection the request came over (the peer address
	// groups unauthenticated refusals in the audit record).
	Network mcpkit.Network
}

// ReviewHook receives every console event worth a record: refusals (401,
// 403), decisions and decisions that found no waiting call. A decision is
// handed to the hook before it reaches the call; if the hook fails, the
// call is refused instead (an approval that is not on the record does not
// count). Listing and viewing by allowed reviewers are not reported.
type ReviewHook func(ctx context.Context, r Review) error

// AuditReviews returns a ReviewHook that records console events with a as
// audit records whose principal is the reviewer. server names the server
// in the records. Unauthenticated requests go through Auditor.Refused,
// which aggregates them per source, so an anonymous flood cannot fill the
// audit log.
func AuditReviews(a *audit.Auditor, server *mcp.Implementation) ReviewHook {
	return func(ctx context.Context, r Review) error {
		if r.Outcome == ReviewUnauthenticated || r.Reviewer.Subject == "" {
			return a.Refused(ctx, audit.Refusal{
				Server:  server,
				Status:  r.Status,
				Reason:  "approval console " + r.Action + ": " + r.Error,
				Time:    r.Time,
				Network: r.Network,
			})
		}
		ev := audit.ReviewEvent{
			Server:    server,
			Outcome:   string(r.Outcome),
			Action:    r.Action,
			Status:    r.Status,
			RequestID: r.RequestID,
			Reason:    r.Reason,
			Error:     r.Error,
			Time:      r.Time,
		}
		id := r.Reviewer
		ev.Reviewer = &id
		if p := r.Request; p != nil {
			ev.Tool, ev.Caller, ev.Arguments = p.Tool, p.Principal.Subject, p.Arguments
		}
		switch r.Outcome {
		case ReviewApproved:
			ev.Decision = string(VerdictApproved)
		case ReviewDenied:
			ev.Decision = string(VerdictDenied)
		}
		return a.Reviewed(ctx, ev)
	}
}
