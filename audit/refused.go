package audit

import (
	"context"
	"net/http"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
)

// refused opens the span of a request the transport refused. Its parent is
// the ambient context (the transport read no _meta); its method, when the
// transport could not name a known one, is _OTHER. Only the server's own
// values reach the metric: the method after that check, a tool only when
// the transport named a registered one (scope refusals), the network.
func (t *telemetry) refused(ctx context.Context, rf Refusal) (context.Context, *operation) {
	in := opInfo{
		method:    methodName(rf.Method),
		sessionID: rf.SessionID,
		requestID: rf.RequestID,
		net:       rf.Network,
		start:     rf.Time,
	}
	ctx, op := t.open(ctx, in)
	if rf.ProtocolVersion != "" {
		// The client's claim, not a version the SDK accepted: on the span
		// only, never a metric dimension.
		op.span.SetAttributes(attribute.String(attrProtocol, t.red.String(rf.ProtocolVersion)))
	}
	if rf.Tool != "" && in.method == methodToolsCall {
		op.setTool(rf.Tool)
	}
	return ctx, op
}

// refusedEnd ends a refusal's span: error.type and rpc.response.status_code
// are the JSON-RPC code the client got; without one (a refusal recorded by
// other code), error.type is the HTTP status.
func (t *telemetry) refusedEnd(ctx context.Context, op *operation, rf Refusal) {
	errType, code := strconv.Itoa(rf.Status), ""
	if rf.Code != 0 {
		code = strconv.FormatInt(rf.Code, 10)
		errType = code
	}
	desc := rf.Message
	if desc == "" {
		desc = http.StatusText(rf.Status)
	}
	t.end(ctx, op, errType, code, desc)
}

// refusalIDs puts the refusal's trace, span, request and session ids on its
// record; the last two are the client's strings, redacted.
func (a *Auditor) refusalIDs(r *Record, rf Refusal, op *operation) {
	if sc := op.span.SpanContext(); sc.IsValid() {
		r.TraceID, r.SpanID = sc.TraceID().String(), sc.SpanID().String()
	}
	r.RequestID = a.cfg.redactor.Identifier(rf.RequestID)
	r.SessionID = a.cfg.redactor.Identifier(rf.SessionID)
	r.ProtocolVersion = a.cfg.redactor.String(rf.ProtocolVersion)
}
