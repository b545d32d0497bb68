package approval

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// InputRequestID is the key of the approval prompt in the input requests
// and in the client's input responses.
const InputRequestID = "mcpkit.approval"

// DefaultStateTTL is how long an in-client approval prompt stays answerable.
const DefaultStateTTL = 5 * time.Minute

// maxReasonLen bounds the optional reason an approver types.
const maxReasonLen = 500

// ElicitConfig configures Elicit.
type ElicitConfig struct {
	// Keys sign and verify the request state. Required.
	Keys *Keyring
	// TTL is how long the prompt stays answerable; DefaultStateTTL if zero.
	// It is also capped by the gate's deadline.
	TTL time.Duration
	// Replay records used states. If nil, an in-memory cache is used and
	// states are bound to this process.
	Replay ReplayCache
	// Hint tells a caller whose client cannot elicit how else to get
	// approval, for example "ask an on-call owner to approve it at
	// https://approvals.example.com".
	Hint string
}

// elicitor asks the calling client's user to confirm the exact call, through
// MCP elicitation.
type elicitor struct {
	keys     *Keyring
	ttl      time.Duration
	replay   ReplayCache
	instance string
	hint     string
}

// Elicit returns an approver that asks the human at the calling client. On
// protocol 2026-07-28 it answers the call with an input request (multi
// round-trip) and decides on the client's retry; on older protocol versions
// the go-sdk server turns the same input request into elicitation/create and
// retries the call itself. Either way the answer comes back with a
// requestState that is HMAC-signed, bound to the caller, the tool and the
// digest of the arguments, expires after TTL and is accepted once.
//
// A client that cannot elicit gets VerdictUnavailable with opts.Hint.
// In-client approval is the caller confirming their own call; for a second
// person's approval use a Console.
func Elicit(opts ElicitConfig) (Approver, error) {
	if opts.Keys == nil {
		return nil, errors.New("approval: Elicit needs a Keyring to sign request states")
	}
	e := &elicitor{keys: opts.Keys, ttl: opts.TTL, replay: opts.Replay, hint: opts.Hint}
	if e.ttl <= 0 {
		e.ttl = DefaultStateTTL
	}
	if e.replay == nil {
		e.replay = NewMemoryReplayCache(0)
		e.instance = newNonce()
	}
	return e, nil
}

// confirmSchema is the prompt: an explicit boolean and an optional reason.
func confirmSchema() map[string]any {
	return map[string]any{
		"type": "object",
		"properties": map[string]any{
			"confirm": map[string]any{
				"type":        "boolean",
				"title":       "Approve this call",
				"description": "Check to let the tool run with exactly these arguments.",
			},
			"reason": map[string]any{
				"type":        "string",
				"title":       "Reason",
				"description": "Optional note for the audit record.",
				"maxLength":   maxReasonLen,
			},
		},
		"required": []string{"confirm"},
	}
}

func (e *elicitor) Approve(ctx context.Context, r *Request) (Decision, error) {
	now := time.Now()
	c := r.Call
	if c == nil || c.Request == nil || c.Request.Params == nil {
		return e.unavailable("the call did not come from an MCP client session"), nil
	}
	p := c.Request.Params
	if p.RequestState == "" && len(p.InputResponses) == 0 {
		return e.ask(r, now)
	}
	return e.decide(ctx, r, now)
}

func (e *elicitor) unavailable(why string) Decision {
	return Decision{Verdict: VerdictUnavailable, Approver: "system", Reason: why, At: time.Now(), Hint: e.hint}
}

// ask returns the input request that puts the confirmation to the user.
func (e *elicitor) ask(r *Request, now time.Time) (Decision, error) {
	if !canElicit(r.Call.Request) {
		return e.unavailable("the client does not support elicitation, so it cannot ask its user to approve"), nil
	}
	exp := now.Add(e.ttl)
	if !r.Deadline.IsZero() && r.Deadline.Before(exp) {
		exp = r.Deadline
	}
	state, err := e.keys.signClaims(claims{
		Principal: r.Principal.Subject,
		Tool:      r.Tool,
		Args:      r.digest,
		Nonce:     newNonce(),
		Instance:  e.instance,
		Issued:    now.UnixMilli(),
		Expires:   exp.UnixMilli(),
	})
	if err != nil {
		return Decision{}, fmt.Errorf("sign approval state: %w", err)
	}
	msg := fmt.Sprintf("Approval needed: %s\n\nArguments: %s\n\nThis prompt expires at %s.",
		r.Summary, string(r.Arguments), exp.UTC().Format(time.RFC3339))
	ask := &mcp.CallToolResult{
		InputRequests: mcp.InputRequestMap{
			InputRequestID: &mcp.ElicitParams{Mode: "form", Message: msg, RequestedSchema: confirmSchema()},
		},
		RequestState: state,
	}
	return Decision{Verdict: VerdictPending, Approver: "system", Reason: "asked the calling client to confirm", At: now, Ask: ask}, nil
}

// canElicit reports whether the calling client declared form elicitation.
func canElicit(req *mcp.CallToolRequest) bool {
	caps := req.ClientCapabilities()
	if caps == nil || caps.Elicitation == nil {
		return false
	}
	// Both form and url unset means form (the pre-2025-11-25 meaning).
	return caps.Elicitation.Form != nil || caps.Elicitation.URL == nil
}

// decide checks the state the client sent back, then reads the answer.
func (e *elicitor) decide(ctx context.Context, r *Request, now time.Time) (Decision, error) {
	p := r.Call.Request.Params
	invalid := func(why string) (Decision, error) {
		return Decision{Verdict: VerdictInvalidState, Approver: "system", Reason: why, At: now}, nil
	}
	if p.RequestState == "" {
		return invalid("inputResponses were sent without the requestState this server issued")
	}
	cl, err := e.keys.verifyState(p.RequestState)
	if err != nil {
		return invalid(err.Error())
	}
	switch {
	case now.UnixMilli() >= cl.Expires:
		return invalid("requestState has expired")
	case cl.Instance != e.instance:
		return invalid("requestState was issued before the server restarted")
	case cl.Tool != r.Tool:
		return invalid("requestState was issued for another tool")
	case cl.Principal != r.Principal.Subject:
		return invalid("requestState was issued to another principal")
	case cl.Args != r.digest:
		return invalid("requestState was issued for other arguments")
	}
	// Single use: consumed whatever the answer, so a decline cannot be
	// retried into an accept with the same state.
	fresh, err := e.replay.Use(ctx, cl.Nonce, time.UnixMilli(cl.Expires).Add(time.Minute))
	if err != nil {
		return Decision{Verdict: VerdictUnavailable, Approver: "system", Reason: "replay cache: " + err.Error(), At: now}, nil
	}
	if !fresh {
		return invalid("requestState has already been used")
	}
	d := Decision{Approver: r.Principal.Subject, At: now}
	if d.Approver == "" {
		d.Approver = "client user"
	}
	resp, ok := p.InputResponses[InputRequestID]
	if !ok {
		d.Verdict, d.Reason = VerdictDenied, "the retry carried no answer to the approval prompt"
		return d, nil
	}
	er, ok := resp.(*mcp.ElicitResult)
	if !ok || er == nil {
		d.Verdict, d.Reason = VerdictDenied, "the answer to the approval prompt is not an elicitation result"
		return d, nil
	}
	switch er.Action {
	case "accept":
	case "decline":
		d.Verdict, d.Reason = VerdictDenied, "the user declined"
		return d, nil
	case "cancel":
		d.Verdict, d.Reason = VerdictDenied, "the user dismissed the prompt"
		return d, nil
	default:
		d.Verdict, d.Reason = VerdictDenied, fmt.Sprintf("unknown elicitation action %q", truncate(er.Action, 40))
		return d, nil
	}
	confirm, reason, err := readAnswer(er.Content)
	if err != nil {
		d.Verdict, d.Reason = VerdictDenied, "the answer does not match the requested schema: "+err.Error()
		return d, nil
	}
	d.Reason = reason
	if !confirm {
		d.Verdict = VerdictDenied
		if d.Reason == "" {
			d.Reason = "the user did not confirm"
		}
		return d, nil
	}
	d.Verdict = VerdictApproved
	return d, nil
}

// readAnswer checks the content against the confirmation schema by hand: the
// client's own validation cannot be trusted.
func readAnswer(content map[string]any) (confirm bool, reason string, err error) {
	for k := range content {
		if k != "confirm" && k != "reason" {
			return false, "", fmt.Errorf("unexpected field %q", truncate(k, 40))
		}
	}
	v, ok := content["confirm"]
	if !ok {
		return false, "", errors.New("confirm is required")
	}
	confirm, ok = v.(bool)
	if !ok {
		return false, "", fmt.Errorf("confirm must be a boolean (got %T)", v)
	}
	if rv, ok := content["reason"]; ok && rv != nil {
		s, ok := rv.(string)
		if !ok {
			return false, "", errors.New("reason must be a string")
		}
		if utf8.RuneCountInString(s) > maxReasonLen {
			return false, "", fmt.Errorf("reason is longer than %d characters", maxReasonLen)
		}
		reason = strings.TrimSpace(s)
	}
	return confirm, reason, nil
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
