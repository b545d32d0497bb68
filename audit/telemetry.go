package audit

import (
	"context"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// Attribute names of the OpenTelemetry MCP semantic conventions.
const (
	attrMethod        = "mcp.method.name"
	attrToolName      = "gen_ai.tool.name"
	attrOperation     = "gen_ai.operation.name"
	attrProtocol      = "mcp.protocol.version"
	attrSessionID     = "mcp.session.id"
	attrRequestID     = "jsonrpc.request.id"
	attrErrorType     = "error.type"
	attrNetTransport  = "network.transport"
	methodToolsCall   = "tools/call"
	operationExecTool = "execute_tool"
	// sessionlessProtocol is the first protocol version without sessions:
	// mcp.session.id is recorded only below it.
	sessionlessProtocol = "2026-07-28"
)

// durationBuckets are the semantic conventions' advice for
// mcp.server.operation.duration, in seconds.
var durationBuckets = []float64{0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300}

type telemetry struct {
	tracer    trace.Tracer
	duration  metric.Float64Histogram
	unwritten metric.Int64Counter
	prop      propagation.TraceContext
}

func newTelemetry(tp trace.TracerProvider, mp metric.MeterProvider) *telemetry {
	t := &telemetry{tracer: tp.Tracer(ScopeName)}
	meter := mp.Meter(ScopeName)
	// Instrument creation only fails on an invalid name or unit, which are
	// constants here; the returned instrument is usable (no-op) anyway.
	t.duration, _ = meter.Float64Histogram("mcp.server.operation.duration",
		metric.WithUnit("s"),
		metric.WithDescription("MCP request duration as observed on the server, from receipt until the result is sent."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	t.unwritten, _ = meter.Int64Counter("mcpkit.audit.unwritten",
		metric.WithUnit("{record}"),
		metric.WithDescription("Audit records a sink could not take."))
	return t
}

// start opens the call's SERVER span, parented on the trace context the
// client put in the request's _meta (traceparent, tracestate) when there is
// one.
func (t *telemetry) start(ctx context.Context, c *mcpkit.Call) (context.Context, trace.Span) {
	if c.Request != nil && c.Request.Params != nil {
		if meta := c.Request.Params.Meta; meta != nil {
			if _, ok := meta["traceparent"].(string); ok {
				ctx = t.prop.Extract(ctx, metaCarrier(meta))
			}
		}
	}
	attrs := make([]attribute.KeyValue, 0, 8)
	attrs = append(attrs,
		attribute.String(attrMethod, methodToolsCall),
		attribute.String(attrToolName, c.Tool.Name),
		attribute.String(attrOperation, operationExecTool),
	)
	if c.ProtocolVersion != "" {
		attrs = append(attrs, attribute.String(attrProtocol, c.ProtocolVersion))
	}
	if c.SessionID != "" && c.ProtocolVersion < sessionlessProtocol {
		attrs = append(attrs, attribute.String(attrSessionID, c.SessionID))
	}
	if c.RequestID != "" {
		attrs = append(attrs, attribute.String(attrRequestID, c.RequestID))
	}
	switch c.Identity.Transport {
	case "stdio":
		attrs = append(attrs, attribute.String(attrNetTransport, "pipe"))
	case "http":
		attrs = append(attrs, attribute.String(attrNetTransport, "tcp"))
	}
	return t.tracer.Start(ctx, methodToolsCall+" "+c.Tool.Name,
		trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
}

// end closes the span and records the duration with the call's outcome.
func (t *telemetry) end(ctx context.Context, span trace.Span, c *mcpkit.Call, seconds float64) {
	outcome := c.Outcome()
	attrs := make([]attribute.KeyValue, 0, 5)
	attrs = append(attrs,
		attribute.String(attrMethod, methodToolsCall),
		attribute.String(attrToolName, c.Tool.Name),
		attribute.String(attrOperation, operationExecTool),
	)
	if c.ProtocolVersion != "" {
		attrs = append(attrs, attribute.String(attrProtocol, c.ProtocolVersion))
	}
	if outcome != mcpkit.OutcomeOK {
		et := attribute.String(attrErrorType, string(outcome))
		attrs = append(attrs, et)
		span.SetAttributes(et)
		span.SetStatus(codes.Error, string(outcome))
	}
	span.End()
	t.duration.Record(ctx, seconds, metric.WithAttributes(attrs...))
}

// metaCarrier reads and writes trace context in a request's _meta.
type metaCarrier mcp.Meta

func (m metaCarrier) Get(key string) string {
	s, _ := m[key].(string)
	return s
}

func (m metaCarrier) Set(key, value string) { m[key] = value }

func (m metaCarrier) Keys() []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}
