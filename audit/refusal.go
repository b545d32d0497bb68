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
	// Target is what a resources/read, prompts/get or tools/call the
	// transport refused named (the URI or name in its params), when it
	// could be read: the client's string, redacted on the record, which
	// then carries Method as its Operation.
	Target string
	// Identity is the caller, when authentication succeeded.
	Identity *mcpkit.Identity
	// Scope marks a refusal for scopes the caller lacks.
	Scope bool
	// RateLimited marks a refusal by a rate limit (HTTP 429 from
	// ratelimit.Gate through the transport): outcome denied_rate, and
	// with an Identity counted like denied_rate calls (see
	// ratelimited.go) rather than recorded one by one.
	RateLimited bool
	// Time is when the request was refused; now if zero.
	Time time.Time

	// Method is the MCP method of the request, when the transport knows it
	// (unknown methods are traced as _OTHER).
	Method string
	// RequestID, SessionID and ProtocolVersion are the JSON-RPC id, the
	// Mcp-Session-Id and the protocol version the request carried, when
	// known. They are the client's, and are redacted in the record.
	RequestID, SessionID, ProtocolVersion string
	// Code is the JSON-RPC error code answered (0 if none); Message the
	// client-safe message sent, the span's status description.
	Code    int64
	Message string
	// Network is the connection the request came over.
	Network mcpkit.Network
}

// Refused records a transport refusal, and traces it like a request the
// server answered: a SERVER span and an mcp.server.operation.duration point
// whose error.type is the JSON-RPC code sent (the HTTP status when there is
// none). The outcome is denied_scope for a scope refusal, unauthenticated
// for 401, denied_rate for a rate limit, invalid_request for 400, unavailable for 503 and rejected
// otherwise; the error field holds the status and the redacted reason.
//
// A refusal with an Identity gets its own record. One without (anyone can
// cause those, as fast as they can send) is aggregated per source
// (Network.ClientAddress: the IP, an IPv6 /64; behind a proxy, the proxy)
// and budgeted: see WithRefusalLimits. Call Close before closing the sink to write the last
// summaries.
func (a *Auditor) Refused(ctx context.Context, rf Refusal) error {
	if rf.Time.IsZero() {
		rf.Time = time.Now()
	}
	ctx, op := a.tel.refused(ctx, rf)
	defer a.tel.refusedEnd(ctx, op, rf)
	r := &Record{
		ID:      newID(),
		Time:    Time{rf.Time.UTC()},
		Tool:    rf.Tool,
		Outcome: refusalOutcome(rf),
		Error:   a.cfg.redactor.String(refusalError(rf)),
		Source:  refusalSource(rf.Network.ClientAddress),
	}
	if rf.Server != nil {
		r.Server = ServerInfo{Name: rf.Server.Name, Version: rf.Server.Version}
	}
	if refusedOperations[rf.Method] {
		r.Operation = rf.Method
		r.Target = a.cfg.redactor.String(rf.Target)
	}
	a.refusalIDs(r, rf, op)
	if id := rf.Identity; id != nil {
		r.Principal = principalOf(a.cfg.redactor, *id)
		if rf.RateLimited && a.limited.absorb(r) {
			return nil
		}
	} else {
		return a.refusals.note(ctx, rf, r)
	}
	return a.writeRefusal(ctx, r)
}

// refusedOperations are the methods a refusal record names as its
// Operation: those records of calls name too.
var refusedOperations = map[string]bool{"tools/call": true, "resources/read": true, "prompts/get": true}

// writeRefusal writes a refusal record, counting and logging it if the
// sink does not take it.
func (a *Auditor) writeRefusal(ctx context.Context, r *Record) error {
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
	case rf.RateLimited:
		return string(mcpkit.OutcomeDeniedRate)
	case rf.Status == http.StatusServiceUnavailable:
		return string(mcpkit.OutcomeUnavailable)
	case rf.Status == http.StatusBadRequest:
		return OutcomeInvalidRequest
	}
	return OutcomeRejected
}

// refusalError is the record's error text: the HTTP status and the reason,
// or on stdio (no HTTP involved) the reason alone.
func refusalError(rf Refusal) string {
	if rf.Network.Transport == "pipe" || rf.Identity != nil && rf.Identity.Transport == "stdio" {
		return rf.Reason
	}
	return fmt.Sprintf("HTTP %d %s: %s", rf.Status, http.StatusText(rf.Status), rf.Reason)
}
