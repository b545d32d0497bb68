package audit

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// Attribute names of the OpenTelemetry MCP semantic conventions
// (semantic-conventions-genai, docs/gen-ai/mcp.md).
const (
	attrMethod          = "mcp.method.name"
	attrToolName        = "gen_ai.tool.name"
	attrPromptName      = "gen_ai.prompt.name"
	attrResourceURI     = "mcp.resource.uri"
	attrOperation       = "gen_ai.operation.name"
	attrProtocol        = "mcp.protocol.version"
	attrSessionID       = "mcp.session.id"
	attrRequestID       = "jsonrpc.request.id"
	attrErrorType       = "error.type"
	attrStatusCode      = "rpc.response.status_code"
	attrNetTransport    = "network.transport"
	attrNetProtoName    = "network.protocol.name"
	attrNetProtoVersion = "network.protocol.version"
	attrClientAddress   = "client.address"
	attrClientPort      = "client.port"
	methodToolsCall     = "tools/call"
	operationExecTool   = "execute_tool"
	// errorTypeTool is error.type for a CallToolResult with isError set.
	errorTypeTool = "tool_error"
	// errorTypeOther is error.type's fallback value, and mcp.method.name's
	// for a refused request whose method is not a known one.
	errorTypeOther = "_OTHER"
	// sessionlessProtocol is the first protocol version without sessions:
	// mcp.session.id is recorded only below it.
	sessionlessProtocol = "2026-07-28"
)

// durationBuckets are the semantic conventions' advice for
// mcp.server.operation.duration and mcp.server.session.duration, in
// seconds.
var durationBuckets = []float64{0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300}

type telemetry struct {
	tracer    trace.Tracer
	duration  metric.Float64Histogram
	sessions  metric.Float64Histogram
	unwritten metric.Int64Counter
	prop      propagation.TraceContext
	red       *Redactor
}

func newTelemetry(tp trace.TracerProvider, mp metric.MeterProvider, red *Redactor) *telemetry {
	t := &telemetry{tracer: tp.Tracer(ScopeName), red: red}
	meter := mp.Meter(ScopeName)
	// Instrument creation only fails on an invalid name or unit, which are
	// constants here; the returned instrument is usable (no-op) anyway.
	t.duration, _ = meter.Float64Histogram("mcp.server.operation.duration",
		metric.WithUnit("s"),
		metric.WithDescription("MCP request or notification duration as observed on the receiver from the time it was received until the result or ack is sent."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	t.sessions, _ = meter.Float64Histogram("mcp.server.session.duration",
		metric.WithUnit("s"),
		metric.WithDescription("The duration of the MCP session as observed on the MCP server."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	t.unwritten, _ = meter.Int64Counter("mcpkit.audit.unwritten",
		metric.WithUnit("{record}"),
		metric.WithDescription("Audit records a sink could not take."))
	return t
}

// operation is one MCP request or notification being served: its SERVER
// span and what its metric point will carry. Every attribute that reaches
// the metric is bounded by the server (the method the SDK dispatched, a
// tool it has, a protocol version it accepted), never a client's free
// choice.
type operation struct {
	span   trace.Span
	start  time.Time
	method string
	// tool is gen_ai.tool.name: set only once the tool is known to exist.
	tool string
	// metric holds the attributes the span and the metric point share.
	metric []attribute.KeyValue
	// owned is true when the tool-call middleware opened the operation
	// itself (no receiving middleware installed) and so ends it.
	owned bool
}

// opInfo is what an operation is opened with.
type opInfo struct {
	method    string
	protocol  string
	sessionID string
	requestID string
	meta      mcp.Meta
	net       mcpkit.Network
	start     time.Time
}

type opKey struct{}

func opFrom(ctx context.Context) *operation {
	op, _ := ctx.Value(opKey{}).(*operation)
	return op
}

// open starts the SERVER span, parented on the trace context the client put
// in _meta (traceparent, tracestate) when there is one, with the ambient
// context (an HTTP server span) as a link.
func (t *telemetry) open(ctx context.Context, in opInfo) (context.Context, *operation) {
	var opts []trace.SpanStartOption
	if tp, ok := in.meta["traceparent"].(string); ok && tp != "" {
		ambient := trace.SpanContextFromContext(ctx)
		ctx = t.prop.Extract(ctx, metaCarrier(in.meta))
		if remote := trace.SpanContextFromContext(ctx); ambient.IsValid() && !ambient.Equal(remote) {
			opts = append(opts, trace.WithLinks(trace.Link{SpanContext: ambient}))
		}
	}
	op := &operation{method: in.method, start: in.start}
	op.metric = append(op.metric, attribute.String(attrMethod, in.method))
	if in.method == methodToolsCall {
		op.metric = append(op.metric, attribute.String(attrOperation, operationExecTool))
	}
	// The protocol version, session id and request id are the client's
	// strings (a request's _meta, the version it asked for at initialize):
	// masked like the record's, and a version is a metric dimension only
	// when it has a version's shape.
	versioned := versionShaped(in.protocol)
	if versioned {
		op.metric = append(op.metric, attribute.String(attrProtocol, in.protocol))
	}
	op.metric = append(op.metric, netAttrs(in.net)...)
	attrs := append([]attribute.KeyValue(nil), op.metric...)
	if in.protocol != "" && !versioned {
		attrs = append(attrs, attribute.String(attrProtocol, t.red.Identifier(in.protocol)))
	}
	if in.sessionID != "" && (in.protocol == "" || in.protocol < sessionlessProtocol) {
		attrs = append(attrs, attribute.String(attrSessionID, t.red.Identifier(in.sessionID)))
	}
	if in.requestID != "" {
		attrs = append(attrs, attribute.String(attrRequestID, t.red.Identifier(in.requestID)))
	}
	if in.net.ClientAddress != "" {
		attrs = append(attrs, attribute.String(attrClientAddress, in.net.ClientAddress))
		if in.net.ClientPort > 0 {
			attrs = append(attrs, attribute.Int(attrClientPort, in.net.ClientPort))
		}
	}
	opts = append(opts, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...),
		trace.WithTimestamp(in.start))
	ctx, op.span = t.tracer.Start(ctx, in.method, opts...)
	return context.WithValue(ctx, opKey{}, op), op
}

// versionShaped reports whether v looks like an MCP protocol version
// (YYYY-MM-DD): what the SDK negotiates, never a secret.
func versionShaped(v string) bool {
	if len(v) != 10 || v[4] != '-' || v[7] != '-' {
		return false
	}
	for i := 0; i < len(v); i++ {
		if i != 4 && i != 7 && (v[i] < '0' || v[i] > '9') {
			return false
		}
	}
	return true
}

// netAttrs are the network attributes of the operation metric.
func netAttrs(n mcpkit.Network) []attribute.KeyValue {
	var kv []attribute.KeyValue
	if n.Transport != "" {
		kv = append(kv, attribute.String(attrNetTransport, n.Transport))
	}
	if n.ProtocolName != "" {
		kv = append(kv, attribute.String(attrNetProtoName, n.ProtocolName))
		if n.ProtocolVersion != "" {
			kv = append(kv, attribute.String(attrNetProtoVersion, n.ProtocolVersion))
		}
	}
	return kv
}

// setTool names the tool of a tools/call once it is known to exist: the
// span becomes "tools/call {name}" and the name an attribute.
func (op *operation) setTool(name string) { op.setTarget(attrToolName, name) }

// setTarget names the target of the operation (gen_ai.tool.name of a
// tools/call, gen_ai.prompt.name of a prompts/get) once it is known to
// exist: the span becomes "{method} {name}" and the name an attribute of
// the span and the metric.
func (op *operation) setTarget(attr, name string) {
	if op.tool != "" || name == "" {
		return
	}
	op.tool = name
	op.span.SetName(op.method + " " + name)
	op.span.SetAttributes(attribute.String(attr, name))
	op.metric = append(op.metric, attribute.String(attr, name))
}

// close ends the operation with what the client received: a JSON-RPC error
// (error.type and rpc.response.status_code are its code, the status
// description its message) or a tool result with isError (error.type
// tool_error, the description its first text block). Descriptions are
// redacted like the audit record's error text.
func (t *telemetry) close(ctx context.Context, op *operation, res mcp.Result, err error) {
	errType, code, desc := "", "", ""
	switch {
	case err != nil:
		// What goes on the wire: a *jsonrpc.Error's code (the SDK keeps
		// the code of one wrapped inside), 0 for any other error.
		var we *jsonrpc.Error
		var c int64
		if errors.As(err, &we) {
			c = we.Code
		}
		code = strconv.FormatInt(c, 10)
		errType, desc = code, err.Error()
	default:
		if cr, ok := res.(*mcp.CallToolResult); ok && cr != nil && cr.IsError {
			errType, desc = errorTypeTool, firstText(cr)
		}
	}
	t.end(ctx, op, errType, code, desc)
}

// end records the outcome on the span and the metric and ends the span.
func (t *telemetry) end(ctx context.Context, op *operation, errType, code, desc string) {
	attrs := op.metric
	if errType != "" {
		extra := []attribute.KeyValue{attribute.String(attrErrorType, errType)}
		if code != "" {
			extra = append(extra, attribute.String(attrStatusCode, code))
		}
		op.span.SetAttributes(extra...)
		op.span.SetStatus(codes.Error, t.red.String(desc))
		attrs = append(attrs[:len(attrs):len(attrs)], extra...)
	}
	op.span.End()
	t.duration.Record(ctx, time.Since(op.start).Seconds(), metric.WithAttributes(attrs...))
}

func firstText(res *mcp.CallToolResult) string {
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			return tc.Text
		}
	}
	return ""
}

// start joins the operation the receiving middleware opened for this
// tools/call (resources/read, prompts/get), or, when none is installed,
// opens one. It returns the context carrying the operation and its span.
// A resource read's span keeps the name "resources/read": the URI, a
// high-cardinality value the client chooses, is only the span's
// mcp.resource.uri attribute (redacted), never a span name or a metric
// dimension.
func (t *telemetry) start(ctx context.Context, c *mcpkit.Call) (context.Context, trace.Span) {
	op := opFrom(ctx)
	method := operationOf(c)
	if op == nil || op.method != method || op.owned {
		in := opInfo{method: method, protocol: c.ProtocolVersion, sessionID: c.SessionID, requestID: c.RequestID, start: c.Start}
		switch {
		case c.Request != nil && c.Request.Params != nil:
			in.meta = c.Request.Params.Meta
		case c.ResourceRequest != nil && c.ResourceRequest.Params != nil:
			in.meta = c.ResourceRequest.Params.Meta
		case c.PromptRequest != nil && c.PromptRequest.Params != nil:
			in.meta = c.PromptRequest.Params.Meta
		}
		if n, ok := mcpkit.NetworkFor(ctx, requestOf(c)); ok {
			in.net = n
		} else {
			in.net = mcpkit.Network{Transport: transportOf(c.Identity.Transport)}
		}
		ctx, op = t.open(ctx, in)
		op.owned = true
	}
	switch mcpkit.Operation(method) {
	case mcpkit.OpReadResource, mcpkit.OpSubscribeResource, mcpkit.OpUnsubscribeResource, mcpkit.OpListen:
		op.span.SetAttributes(attribute.String(attrResourceURI, t.red.String(c.Target)))
	case mcpkit.OpGetPrompt:
		if !c.Tool.Unknown {
			op.setTarget(attrPromptName, c.Tool.Name)
		}
	case mcpkit.OpComplete:
		// A completion names a prompt or a resource template; the
		// template, like a URI, is an attribute, never a span name.
		switch {
		case c.Tool.Kind == mcpkit.KindPrompt && !c.Tool.Unknown:
			op.setTarget(attrPromptName, c.Tool.Name)
		case c.Tool.Kind != mcpkit.KindPrompt:
			op.span.SetAttributes(attribute.String(attrResourceURI, t.red.String(c.Target)))
		}
	default:
		if !c.Tool.Unknown {
			op.setTool(c.Tool.Name)
		}
	}
	return ctx, op.span
}

// requestOf avoids a typed nil inside the mcp.Request interface.
func requestOf(c *mcpkit.Call) mcp.Request {
	switch {
	case c.Request != nil:
		return c.Request
	case c.ResourceRequest != nil:
		return c.ResourceRequest
	case c.PromptRequest != nil:
		return c.PromptRequest
	}
	return nil
}

func transportOf(identityTransport string) string {
	switch identityTransport {
	case "stdio":
		return "pipe"
	case "http":
		return "tcp"
	}
	return ""
}

// watch wraps the handler below the audit middleware: a call mcpkit did not
// register that still produced a result was answered by a tool added to the
// SDK server directly, so its name is the server's, not a client's guess.
func (t *telemetry) watch(next mcpkit.Handler) mcpkit.Handler {
	return func(ctx context.Context, c *mcpkit.Call) (*mcp.CallToolResult, error) {
		res, err := next(ctx, c)
		if op := opFrom(ctx); op != nil && c.Tool.Unknown && err == nil && res != nil && c.Outcome() != mcpkit.OutcomeUnknownTool && c.Outcome() != mcpkit.OutcomeUnknownPrompt {
			switch mcpkit.Operation(operationOf(c)) {
			case mcpkit.OpCallTool:
				op.setTool(c.Tool.Name)
			case mcpkit.OpGetPrompt:
				op.setTarget(attrPromptName, c.Tool.Name)
			}
		}
		return res, err
	}
}

// finish ends the operation if the tool-call middleware opened it; else the
// receiving middleware ends it with what the client receives.
func (t *telemetry) finish(ctx context.Context, res *mcp.CallToolResult, err error) {
	op := opFrom(ctx)
	if op == nil || !op.owned {
		return
	}
	var r mcp.Result
	if res != nil {
		r = res
	}
	t.close(ctx, op, r, err)
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
