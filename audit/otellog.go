package audit

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/log/global"
)

// ScopeName is the instrumentation scope of the audit package's logs,
// spans and metrics.
const ScopeName = "github.com/mcpkit-go/mcpkit/audit"

// EventName is the event name of audit log records.
const EventName = "mcpkit.audit.tool_call"

// OTelLogSink emits each record as an OpenTelemetry log record (event
// mcpkit.audit.tool_call) with the record's fields as attributes named as
// in its JSON ("principal.subject", ...), and the trace and span of the call
// taken from ctx. A nil provider means the global one. Emitting never
// fails; the provider's exporter batches and retries.
func OTelLogSink(provider log.LoggerProvider) Sink {
	if provider == nil {
		provider = global.GetLoggerProvider()
	}
	logger := provider.Logger(ScopeName)
	return SinkFunc(func(ctx context.Context, r *Record) error {
		sev := log.SeverityInfo
		if r.Outcome != "" && r.Outcome != "ok" {
			sev = log.SeverityWarn
		}
		if !logger.Enabled(ctx, log.EnabledParameters{Severity: sev, EventName: EventName}) {
			return nil
		}
		var lr log.Record
		lr.SetEventName(EventName)
		lr.SetTimestamp(r.Time.Time)
		lr.SetSeverity(sev)
		body := "tools/call"
		if r.Tool != "" {
			body += " " + r.Tool
		}
		if r.Phase != "" {
			body += " " + r.Phase
		} else {
			body += " " + r.Outcome
		}
		lr.SetBody(attribute.StringValue(body))
		lr.AddAttributes(otelAttrs(r)...)
		logger.Emit(ctx, lr)
		return nil
	})
}

func otelAttrs(r *Record) []attribute.KeyValue {
	kv := make([]attribute.KeyValue, 0, 24)
	add := func(k, v string) {
		if v != "" {
			kv = append(kv, attribute.String(k, v))
		}
	}
	add("id", r.ID)
	add("time", r.Time.UTC().Format(timeLayout))
	add("phase", r.Phase)
	add("server.name", r.Server.Name)
	add("server.version", r.Server.Version)
	add("principal.subject", r.Principal.Subject)
	add("principal.email", r.Principal.Email)
	if len(r.Principal.Groups) > 0 {
		kv = append(kv, attribute.StringSlice("principal.groups", r.Principal.Groups))
	}
	add("principal.client", r.Principal.Client)
	add("principal.auth", r.Principal.Auth)
	add("session_id", r.SessionID)
	add("protocol_version", r.ProtocolVersion)
	add("request_id", r.RequestID)
	add("tool", r.Tool)
	add("risk", r.Risk)
	add("arguments", string(r.Arguments))
	add("outcome", r.Outcome)
	add("error", r.Error)
	add("result", string(r.Result))
	if a := r.Approval; a != nil {
		add("approval.approver", a.Approver)
		add("approval.decision", a.Decision)
		add("approval.reason", a.Reason)
		kv = append(kv, attribute.Float64("approval.latency_ms", a.LatencyMS))
	}
	kv = append(kv, attribute.Float64("duration_ms", r.DurationMS))
	add("trace_id", r.TraceID)
	add("span_id", r.SpanID)
	add("instance", r.Instance)
	if r.Seq != 0 {
		kv = append(kv, attribute.Int64("seq", int64(r.Seq)))
		add("prev_hash", r.PrevHash)
		add("hash", r.Hash)
	}
	return kv
}
