package audit

import (
	"context"
	"log/slog"
)

// SlogSink writes each record as one log line through logger, at Info for
// ok and Warn otherwise, with the record's fields as attributes named as in
// its JSON. It never fails: a slog.Handler cannot report errors.
func SlogSink(logger *slog.Logger) Sink {
	return SinkFunc(func(ctx context.Context, r *Record) error {
		level := slog.LevelInfo
		if r.Outcome != "" && r.Outcome != "ok" {
			level = slog.LevelWarn
		}
		if !logger.Enabled(ctx, level) {
			return nil
		}
		logger.LogAttrs(ctx, level, "mcp tool call", slogAttrs(r)...)
		return nil
	})
}

func slogAttrs(r *Record) []slog.Attr {
	attrs := []slog.Attr{
		slog.String("id", r.ID),
		slog.Time("time", r.Time.UTC()),
		slog.Group("server", slog.String("name", r.Server.Name), slog.String("version", r.Server.Version)),
		slog.Group("principal",
			slog.String("subject", r.Principal.Subject), slog.String("email", r.Principal.Email),
			slog.Any("groups", r.Principal.Groups), slog.String("client", r.Principal.Client),
			slog.String("auth", r.Principal.Auth)),
		slog.String("tool", r.Tool),
	}
	add := func(k, v string) {
		if v != "" {
			attrs = append(attrs, slog.String(k, v))
		}
	}
	add("phase", r.Phase)
	add("session_id", r.SessionID)
	add("protocol_version", r.ProtocolVersion)
	add("request_id", r.RequestID)
	add("risk", r.Risk)
	add("arguments", string(r.Arguments))
	add("outcome", r.Outcome)
	add("error", r.Error)
	add("result", string(r.Result))
	if a := r.Approval; a != nil {
		attrs = append(attrs, slog.Group("approval", slog.String("approver", a.Approver), slog.String("decision", a.Decision),
			slog.String("reason", a.Reason), slog.Float64("latency_ms", a.LatencyMS)))
	}
	attrs = append(attrs, slog.Float64("duration_ms", r.DurationMS))
	add("trace_id", r.TraceID)
	add("span_id", r.SpanID)
	if r.Seq != 0 {
		attrs = append(attrs, slog.Uint64("seq", r.Seq), slog.String("prev_hash", r.PrevHash), slog.String("hash", r.Hash))
	}
	return attrs
}
