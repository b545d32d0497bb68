package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// Outcomes of approval console events (Auditor.Reviewed). A refused
// reviewer is on the record like a refused caller, and a decision is on the
// record under the reviewer's name before it reaches the waiting call.
const (
	// OutcomeReviewRefused: the console answered 403, because the reviewer
	// does not meet its approver rule or tried to approve their own call.
	OutcomeReviewRefused = "review_refused"
	// OutcomeReviewApproved and OutcomeReviewDenied: a reviewer decided a
	// pending call.
	OutcomeReviewApproved = "review_approved"
	OutcomeReviewDenied   = "review_denied"
	// OutcomeReviewNotWaiting: a decision for a request no call waits for
	// any more (decided, timed out, ended, or served elsewhere); nothing
	// was applied.
	OutcomeReviewNotWaiting = "review_not_waiting"
	// OutcomeReviewTampered: a request or decision in the approval store
	// failed its seal check (changed outside the consoles); it was not
	// shown as decidable and never approved.
	OutcomeReviewTampered = "review_tampered"
)

// Review is the part of a record specific to an approval console event.
type Review struct {
	// Action is what the reviewer asked for: page, script, list, approve
	// or deny.
	Action string `json:"action"`
	// Status is the HTTP status the console answered.
	Status int `json:"status"`
	// RequestID is the approval request concerned, if any.
	RequestID string `json:"request_id,omitempty"`
	// Caller is the subject whose call the request holds.
	Caller string `json:"caller,omitempty"`
}

// ReviewEvent is one approval console event to record. The record's
// principal is the reviewer, its tool and arguments the request's, its
// approval block the decision.
type ReviewEvent struct {
	// Server names the server whose console it is.
	Server *mcp.Implementation
	// Reviewer is who used the console; nil when they could not be
	// authenticated.
	Reviewer *mcpkit.Identity
	// Outcome is one of the OutcomeReview* values, or
	// OutcomeUnauthenticated.
	Outcome string
	Action  string
	Status  int
	// RequestID, Tool, Caller and Arguments describe the pending request,
	// when one is concerned. Arguments go through the redactor again.
	RequestID string
	Tool      string
	Caller    string
	Arguments json.RawMessage
	// Decision ("approved", "denied") and Reason (the reviewer's note) are
	// set on decisions.
	Decision string
	Reason   string
	// Error says why the console refused or did not apply the request.
	Error string
	// Time is when it happened; now if zero.
	Time time.Time
}

// Reviewed records an approval console event. Reasons and errors are
// redacted like any error text, and the reviewer's client name like a
// caller's (masked, and cut when long).
func (a *Auditor) Reviewed(ctx context.Context, ev ReviewEvent) error {
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	red := a.cfg.redactor
	r := &Record{
		ID:      newID(),
		Time:    Time{ev.Time.UTC()},
		Tool:    ev.Tool,
		Outcome: ev.Outcome,
		Review:  &Review{Action: ev.Action, Status: ev.Status, RequestID: ev.RequestID, Caller: ev.Caller},
	}
	if len(ev.Arguments) > 0 {
		r.Arguments = red.JSON(ev.Arguments, nil)
		r.redacted.mark(r.Arguments)
	}
	if ev.Server != nil {
		r.Server = ServerInfo{Name: ev.Server.Name, Version: ev.Server.Version}
	}
	if id := ev.Reviewer; id != nil {
		r.Principal = principalOf(red, *id)
	}
	if ev.Decision != "" {
		approver := ""
		if ev.Reviewer != nil {
			approver = ev.Reviewer.Subject
		}
		r.Approval = &Approval{Approver: approver, Decision: ev.Decision, Reason: red.String(ev.Reason)}
	}
	if ev.Error != "" {
		r.Error = red.String(fmt.Sprintf("HTTP %d %s: %s", ev.Status, http.StatusText(ev.Status), ev.Error))
	}
	if err := a.sink.Write(ctx, r); err != nil {
		a.lost(ctx, r, err)
		return err
	}
	return nil
}

// Redactor returns the redactor the auditor masks records with, so that
// what other components show (an approval console, a webhook) is masked
// exactly as the audit record is.
func (a *Auditor) Redactor() *Redactor { return a.cfg.redactor }
