package otlp_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	collogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetrics "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/transport"
)

// gotSpan is a span as the OTLP receiver decoded it.
type gotSpan struct {
	name, traceID, spanID, parent string
	kind                          tracepb.Span_SpanKind
	status                        *tracepb.Status
	attrs                         map[string]any
}

// gotPoint is one histogram data point.
type gotPoint struct {
	metric, unit string
	bounds       []float64
	count        uint64
	attrs        map[string]any
}

// collector is an OTLP/HTTP receiver that keeps everything it decodes.
type collector struct {
	mu     sync.Mutex
	spans  []gotSpan
	points []gotPoint
	logs   []map[string]any
}

func kvs(in []*commonpb.KeyValue) map[string]any {
	out := map[string]any{}
	for _, kv := range in {
		switch v := kv.Value.Value.(type) {
		case *commonpb.AnyValue_StringValue:
			out[kv.Key] = v.StringValue
		case *commonpb.AnyValue_IntValue:
			out[kv.Key] = v.IntValue
		case *commonpb.AnyValue_DoubleValue:
			out[kv.Key] = v.DoubleValue
		default:
			out[kv.Key] = kv.Value.String()
		}
	}
	return out
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "want protobuf", http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var resp proto.Message
	switch r.URL.Path {
	case "/v1/traces":
		var req coltrace.ExportTraceServiceRequest
		if err := proto.Unmarshal(body, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, sp := range ss.Spans {
					c.spans = append(c.spans, gotSpan{name: sp.Name, kind: sp.Kind, status: sp.Status, attrs: kvs(sp.Attributes),
						traceID: hex.EncodeToString(sp.TraceId), spanID: hex.EncodeToString(sp.SpanId), parent: hex.EncodeToString(sp.ParentSpanId)})
				}
			}
		}
		resp = &coltrace.ExportTraceServiceResponse{}
	case "/v1/metrics":
		var req colmetrics.ExportMetricsServiceRequest
		if err := proto.Unmarshal(body, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for _, rm := range req.ResourceMetrics {
			for _, sm := range rm.ScopeMetrics {
				for _, m := range sm.Metrics {
					if h := m.GetHistogram(); h != nil {
						for _, dp := range h.DataPoints {
							c.points = append(c.points, gotPoint{metric: m.Name, unit: m.Unit, bounds: dp.ExplicitBounds, count: dp.Count, attrs: kvs(dp.Attributes)})
						}
					}
				}
			}
		}
		resp = &colmetrics.ExportMetricsServiceResponse{}
	case "/v1/logs":
		var req collogs.ExportLogsServiceRequest
		if err := proto.Unmarshal(body, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for _, rl := range req.ResourceLogs {
			for _, sl := range rl.ScopeLogs {
				for _, lr := range sl.LogRecords {
					a := kvs(lr.Attributes)
					a["@trace_id"], a["@span_id"], a["@body"] = hex.EncodeToString(lr.TraceId), hex.EncodeToString(lr.SpanId), lr.Body.GetStringValue()
					c.logs = append(c.logs, a)
				}
			}
		}
		resp = &collogs.ExportLogsServiceResponse{}
	default:
		http.NotFound(w, r)
		return
	}
	b, _ := proto.Marshal(resp)
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(b)
}

func (c *collector) spanNamed(t *testing.T, name string, match func(gotSpan) bool) gotSpan {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	var names []string
	for _, s := range c.spans {
		if s.name == name && (match == nil || match(s)) {
			return s
		}
		names = append(names, s.name)
	}
	t.Fatalf("no span %q among %v", name, names)
	return gotSpan{}
}

// otlpProviders exports to the collector over OTLP/HTTP, as a deployment
// would.
type otlpProviders struct {
	tp *sdktrace.TracerProvider
	mp *sdkmetric.MeterProvider
	lp *sdklog.LoggerProvider
}

func newOTLPProviders(t *testing.T, url string) *otlpProviders {
	t.Helper()
	ctx := context.Background()
	te, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(url+"/v1/traces"))
	require.NoError(t, err)
	me, err := otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpointURL(url+"/v1/metrics"))
	require.NoError(t, err)
	le, err := otlploghttp.New(ctx, otlploghttp.WithEndpointURL(url+"/v1/logs"))
	require.NoError(t, err)
	return &otlpProviders{
		tp: sdktrace.NewTracerProvider(sdktrace.WithBatcher(te)),
		mp: sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(me, sdkmetric.WithInterval(time.Hour)))),
		lp: sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewBatchProcessor(le))),
	}
}

func (p *otlpProviders) flush(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, p.lp.Shutdown(ctx))
	require.NoError(t, p.tp.Shutdown(ctx))
	require.NoError(t, p.mp.Shutdown(ctx))
}

// bearer adds a token to every request of a go-sdk client.
type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

const (
	readerToken = "reader-token-0123456789"
	// slackShaped is a tool name a client chose: the shape of a Slack bot
	// token, which must not become a span name, attribute or series.
	slackShaped  = "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
	clientParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
)

// TestTelemetryOverOTLPFollowsTheMCPConventions runs a stateful streamable
// HTTP server with the auditor instrumenting every method, a real go-sdk
// client and raw refused requests, exports over OTLP/HTTP to a receiver,
// and checks every attribute the MCP semantic conventions define.
func TestTelemetryOverOTLPFollowsTheMCPConventions(t *testing.T) {
	col := &collector{}
	colSrv := httptest.NewServer(col)
	defer colSrv.Close()
	prov := newOTLPProviders(t, colSrv.URL)

	sink := &memSink{}
	logSink := audit.OTelLogSink(prov.lp)
	f := newFixture(t, audit.Fanout(sink, logSink), audit.WithTracerProvider(prov.tp), audit.WithMeterProvider(prov.mp))
	f.sink = sink
	f.auditor.Instrument(f.srv.MCPServer())

	tokens, err := transport.ParseStaticTokens([]byte(`{"` + readerToken + `": {"sub": "reader", "scopes": ["things:read"]}}`))
	require.NoError(t, err)
	h, err := transport.NewHandler(f.srv, transport.WithAuthenticator(tokens),
		transport.WithRejectHook(func(r *http.Request, rej transport.Rejection) {
			_ = f.auditor.Refused(r.Context(), audit.Refusal{Server: f.srv.Implementation(), Status: rej.Status, Reason: rej.Reason,
				Tool: rej.Tool, Identity: rej.Identity, Scope: len(rej.Missing) > 0,
				Method: rej.Method, RequestID: rej.RequestID, SessionID: rej.SessionID, ProtocolVersion: rej.ProtocolVersion,
				Code: rej.Code, Message: rej.Message, Network: rej.Network})
		}))
	require.NoError(t, err)
	web := httptest.NewServer(h)
	defer web.Close()

	ctx := context.Background()
	client := mcp.NewClient(&mcp.Implementation{Name: "otlp-test", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: web.URL + "/mcp", HTTPClient: &http.Client{Transport: bearer{readerToken}}},
		&mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"}) // a stateful session
	require.NoError(t, err)
	defer cs.Close() // before web.Close, which waits for the session's stream
	sessionID := cs.ID()
	require.NotEmpty(t, sessionID, "a stateful session")

	_, err = cs.ListTools(ctx, nil)
	require.NoError(t, err)
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Meta: mcp.Meta{"traceparent": clientParent}, Name: "get_thing", Arguments: map[string]any{"name": "a"}})
	require.NoError(t, err)
	require.False(t, res.IsError)
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_thing", Arguments: map[string]any{"name": "a", "public": "thing a is locked"}})
	require.NoError(t, err)
	require.True(t, res.IsError)
	_, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: slackShaped, Arguments: map[string]any{}})
	require.Error(t, err, "an unknown tool is a protocol error")

	// Refused before the server: a tool the token lacks the scope for
	// (403), and a request without a token (401).
	_, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_admin", Arguments: map[string]any{"name": "a"}})
	require.Error(t, err)
	req, err := http.NewRequest(http.MethodPost, web.URL+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":"r-401","method":"tools/call","params":{"name":"get_thing","arguments":{}}}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Session-Id", sessionID)
	req.Header.Set("Mcp-Method", "tools/call")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	// A method name the client made up is _OTHER, not a new span name or
	// series.
	// A fresh request: reusing the first one with a shorter body would
	// announce the old Content-Length and leave the server waiting.
	req, err = http.NewRequest(http.MethodPost, web.URL+"/mcp", strings.NewReader(`{}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Session-Id", sessionID)
	req.Header.Set("Mcp-Method", slackShaped)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	require.NoError(t, cs.Close())
	// The session's end is recorded once the server sees it close.
	require.Eventually(t, func() bool { return countSessions(f.srv.MCPServer()) == 0 }, 5*time.Second, 10*time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	prov.flush(t)

	// initialize: SERVER span named by the method, the negotiated protocol
	// version, the session and the HTTP connection.
	init := col.spanNamed(t, "initialize", nil)
	assert.Equal(t, tracepb.Span_SPAN_KIND_SERVER, init.kind)
	assert.Equal(t, "initialize", init.attrs["mcp.method.name"])
	assert.NotEmpty(t, init.attrs["mcp.protocol.version"])
	assert.Equal(t, "tcp", init.attrs["network.transport"])
	assert.Equal(t, "http", init.attrs["network.protocol.name"])
	assert.Equal(t, "1.1", init.attrs["network.protocol.version"])
	assert.Equal(t, "127.0.0.1", init.attrs["client.address"])
	assert.Positive(t, init.attrs["client.port"])
	assert.NotContains(t, init.attrs, "gen_ai.operation.name", "only tool calls are execute_tool")
	list := col.spanNamed(t, "tools/list", nil)
	assert.Equal(t, sessionID, list.attrs["mcp.session.id"])
	assert.Equal(t, tracepb.Span_SPAN_KIND_SERVER, list.kind)

	// A successful call: named by its tool, parented on _meta.traceparent.
	ok := col.spanNamed(t, "tools/call get_thing", func(s gotSpan) bool { return s.status.GetCode() != tracepb.Status_STATUS_CODE_ERROR })
	assert.Equal(t, tracepb.Span_SPAN_KIND_SERVER, ok.kind)
	assert.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", ok.traceID)
	assert.Equal(t, "00f067aa0ba902b7", ok.parent)
	for k, v := range map[string]any{"mcp.method.name": "tools/call", "gen_ai.tool.name": "get_thing", "gen_ai.operation.name": "execute_tool",
		"mcp.session.id": sessionID, "network.transport": "tcp", "network.protocol.name": "http", "client.address": "127.0.0.1"} {
		assert.Equal(t, v, ok.attrs[k], k)
	}
	assert.NotEmpty(t, ok.attrs["jsonrpc.request.id"])
	assert.NotEmpty(t, ok.attrs["mcp.protocol.version"])
	assert.NotContains(t, ok.attrs, "error.type")

	// A tool error: tool_error, no JSON-RPC code, the message as status.
	te := col.spanNamed(t, "tools/call get_thing", func(s gotSpan) bool { return s.status.GetCode() == tracepb.Status_STATUS_CODE_ERROR })
	assert.Equal(t, "tool_error", te.attrs["error.type"])
	assert.NotContains(t, te.attrs, "rpc.response.status_code")
	assert.Equal(t, "thing a is locked", te.status.GetMessage())

	// The unknown tool: no name anywhere the client could mint series.
	unk := col.spanNamed(t, "tools/call", func(s gotSpan) bool { return s.attrs["error.type"] == "-32602" })
	assert.NotContains(t, unk.attrs, "gen_ai.tool.name")
	assert.Equal(t, "-32602", unk.attrs["error.type"])
	assert.Equal(t, "-32602", unk.attrs["rpc.response.status_code"])
	assert.Equal(t, tracepb.Status_STATUS_CODE_ERROR, unk.status.GetCode())
	assert.NotContains(t, unk.status.GetMessage(), slackShaped)
	assert.NotEmpty(t, unk.status.GetMessage())

	// The 403: a span of its own, the JSON-RPC code as error.type.
	denied := col.spanNamed(t, "tools/call get_admin", nil)
	assert.Equal(t, tracepb.Span_SPAN_KIND_SERVER, denied.kind)
	assert.Equal(t, "-32003", denied.attrs["error.type"])
	assert.Equal(t, "-32003", denied.attrs["rpc.response.status_code"])
	assert.Equal(t, sessionID, denied.attrs["mcp.session.id"])
	assert.NotEmpty(t, denied.attrs["jsonrpc.request.id"])
	assert.Equal(t, "127.0.0.1", denied.attrs["client.address"])
	assert.Contains(t, denied.status.GetMessage(), "requires scope things:admin")
	// The 401 names no tool (the caller is nobody, and its body is not
	// read before authentication) but the method its header claims.
	unauth := col.spanNamed(t, "tools/call", func(s gotSpan) bool { return s.attrs["error.type"] == "-32001" })
	assert.Equal(t, "-32001", unauth.attrs["rpc.response.status_code"])
	assert.Equal(t, sessionID, unauth.attrs["mcp.session.id"])
	assert.Equal(t, "tcp", unauth.attrs["network.transport"])
	other := col.spanNamed(t, "_OTHER", nil)
	assert.Equal(t, "_OTHER", other.attrs["mcp.method.name"])

	// Everything the SDK dispatched, and both refusals, has a point; the
	// metric carries the convention's unit, buckets and dimensions only.
	col.mu.Lock()
	var ops, sessions []gotPoint
	for _, p := range col.points {
		switch p.metric {
		case "mcp.server.operation.duration":
			ops = append(ops, p)
		case "mcp.server.session.duration":
			sessions = append(sessions, p)
		}
	}
	col.mu.Unlock()
	wantBounds := []float64{0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300}
	byKey := map[string]gotPoint{}
	for _, p := range ops {
		assert.Equal(t, "s", p.unit)
		assert.Equal(t, wantBounds, p.bounds)
		assert.Equal(t, "tcp", p.attrs["network.transport"], "%v", p.attrs)
		assert.Equal(t, "http", p.attrs["network.protocol.name"])
		for _, k := range []string{"mcp.session.id", "jsonrpc.request.id", "client.address", "client.port"} {
			assert.NotContains(t, p.attrs, k, "high-cardinality %s is not a metric dimension", k)
		}
		for k, v := range p.attrs {
			assert.NotContains(t, fmt.Sprint(v), "xoxb-", "client string in metric attribute %s", k)
		}
		byKey[fmt.Sprint(p.attrs["mcp.method.name"], " ", p.attrs["gen_ai.tool.name"], " ", p.attrs["error.type"])] = p
	}
	for _, k := range []string{"initialize <nil> <nil>", "notifications/initialized <nil> <nil>", "tools/list <nil> <nil>",
		"tools/call get_thing <nil>", "tools/call get_thing tool_error", "tools/call <nil> -32602",
		"tools/call get_admin -32003", "tools/call <nil> -32001", "_OTHER <nil> -32001"} {
		assert.Contains(t, byKey, k, "metric points: %v", keys(byKey))
	}
	assert.Equal(t, "-32602", byKey["tools/call <nil> -32602"].attrs["rpc.response.status_code"])
	assert.Equal(t, "execute_tool", byKey["tools/call get_thing <nil>"].attrs["gen_ai.operation.name"])
	require.Len(t, sessions, 1, "one session ended")
	assert.Equal(t, "s", sessions[0].unit)
	assert.Equal(t, wantBounds, sessions[0].bounds)
	assert.Equal(t, "tcp", sessions[0].attrs["network.transport"])
	assert.NotEmpty(t, sessions[0].attrs["mcp.protocol.version"])
	assert.NotContains(t, sessions[0].attrs, "error.type")

	// The records: the unknown tool's name redacted like an argument, the
	// refusals carrying trace, span, request and session ids.
	var unknownRec, deniedRec, unauthRec *audit.Record
	for _, r := range sink.all() {
		switch {
		case r.Outcome == "unknown_tool":
			unknownRec = &r
		case r.Outcome == "denied_scope" && r.Tool == "get_admin" && r.Principal.Subject == "reader" && r.RequestID != "" && r.TraceID != "" && r.Error != "" && strings.HasPrefix(r.Error, "HTTP 403"):
			deniedRec = &r
		case r.Outcome == "unauthenticated" && unauthRec == nil:
			unauthRec = &r
		}
	}
	require.NotNil(t, unknownRec)
	assert.NotContains(t, unknownRec.Tool, "xoxb-")
	assert.Contains(t, unknownRec.Tool, "[REDACTED")
	assert.Equal(t, unk.traceID, unknownRec.TraceID)
	assert.Equal(t, unk.spanID, unknownRec.SpanID)
	require.NotNil(t, deniedRec, "records: %+v", sink.all())
	assert.Equal(t, denied.traceID, deniedRec.TraceID)
	assert.Equal(t, denied.spanID, deniedRec.SpanID)
	assert.Equal(t, denied.attrs["jsonrpc.request.id"], deniedRec.RequestID)
	assert.Equal(t, sessionID, deniedRec.SessionID)
	require.NotNil(t, unauthRec)
	assert.Equal(t, sessionID, unauthRec.SessionID)
	assert.Equal(t, unauth.spanID, unauthRec.SpanID)

	// The logs: correlated with their span, the unknown tool redacted.
	col.mu.Lock()
	defer col.mu.Unlock()
	var sawUnknown bool
	for _, l := range col.logs {
		assert.NotContains(t, fmt.Sprint(l["tool"]), "xoxb-")
		assert.NotContains(t, fmt.Sprint(l["@body"]), "xoxb-")
		assert.Equal(t, l["trace_id"], l["@trace_id"], "log record in its span's trace")
		if l["outcome"] == "unknown_tool" {
			sawUnknown = true
			assert.Equal(t, unk.spanID, l["@span_id"])
		}
	}
	assert.True(t, sawUnknown)
	assert.False(t, bytes.Contains([]byte(fmt.Sprint(col.spans)), []byte("xoxb-")), "no span carries the client's token-shaped name")
}

func countSessions(s *mcp.Server) int {
	n := 0
	for range s.Sessions() {
		n++
	}
	return n
}

func keys(m map[string]gotPoint) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
