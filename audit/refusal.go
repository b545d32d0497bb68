package audit

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// Outcomes of requests a transport refused before they reached the server.
const (
	OutcomeUnauthenticated = "unauthenticated"
	OutcomeRejected        = "rejected"
	// OutcomeInvalidRequest: the server could not decode the request (a
	// tools/call whose params are not an object with a string name).
	OutcomeInvalidRequest = "invalid_request"
)

// Refusal is a request a transport refused before the MCP server saw it: no
// or bad credentials, a wrong Origin, a body too large, a scope the token
// lacks. Pass it to Auditor.Refused from the transport's reject hook, so
// that a refused request is on the record like a refused call.
type Refusal struct {
	// Server names the server that refused.
	Server *mcp.Implementation
	// Status is the HTTP status sent.
	Status int
	// Reason is the internal reason; it is redacted like any error.
	Reason string
	// Tool is the tool called, when known.
	Tool string
	// Identity is the caller, when authentication succeeded.
	Identity *mcpkit.Identity
	// Scope marks a refusal for scopes the caller lacks.
	Scope bool
	// Time is when the request was refused; now if zero.
	Time time.Time
}

// Refused records a transport refusal. The outcome is denied_scope for a
// scope refusal, unauthenticated for 401, invalid_request for 400, unavailable
// for 503 and rejected
// otherwise; the error field holds the status and the redacted reason.
func (a *Auditor) Refused(ctx context.Context, rf Refusal) error {
	if rf.Time.IsZero() {
		rf.Time = time.Now()
	}
	r := &Record{
		ID:      newID(),
		Time:    Time{rf.Time.UTC()},
		Tool:    rf.Tool,
		Outcome: refusalOutcome(rf),
		Error:   a.cfg.redactor.String(fmt.Sprintf("HTTP %d %s: %s", rf.Status, http.StatusText(rf.Status), rf.Reason)),
	}
	if rf.Server != nil {
		r.Server = ServerInfo{Name: rf.Server.Name, Version: rf.Server.Version}
	}
	if id := rf.Identity; id != nil {
		r.Principal = Principal{Subject: id.Subject, Email: id.Email, Groups: id.Groups, Client: clientString(*id), Auth: id.AuthMethod}
	}
	if err := a.sink.Write(ctx, r); err != nil {
		a.lost(ctx, r, err)
		return err
	}
	return nil
}

func refusalOutcome(rf Refusal) string {
	switch {
	case rf.Scope:
		return string(mcpkit.OutcomeDeniedScope)
	case rf.Status == http.StatusUnauthorized:
		return OutcomeUnauthenticated
	case rf.Status == http.StatusServiceUnavailable:
		return string(mcpkit.OutcomeUnavailable)
	case rf.Status == http.StatusBadRequest:
		return OutcomeInvalidRequest
	}
	return OutcomeRejected
}
