package audit_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
	"github.com/mcpkit-go/mcpkit/transport"
)

func TestSpansAndMetricFollowTheMCPConventions(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	sink := &memSink{}
	f := newFixture(t, sink, audit.WithTracerProvider(tp), audit.WithMeterProvider(mp))
	cs := mcpkittest.NewHarness(t, f.srv).Session

	parent := "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	_, err := cs.CallTool(context.Background(), &mcp.CallToolParams{
		Meta: mcp.Meta{"traceparent": parent},
		Name: "get_thing", Arguments: map[string]any{"name": "a"},
	})
	require.NoError(t, err)
	res, err := callTool(t, cs, "get_thing", map[string]any{"name": "a", "public": "nope"})
	require.NoError(t, err)
	require.True(t, res.IsError)

	ended := spans.Ended()
	require.Len(t, ended, 2)
	ok, failed := ended[0], ended[1]
	assert.Equal(t, "tools/call get_thing", ok.Name())
	assert.Equal(t, trace.SpanKindServer, ok.SpanKind())
	assert.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", ok.SpanContext().TraceID().String(), "parent from _meta.traceparent")
	assert.Equal(t, "00f067aa0ba902b7", ok.Parent().SpanID().String())
	attrs := attribute.NewSet(ok.Attributes()...)
	for k, v := range map[string]string{"mcp.method.name": "tools/call", "gen_ai.tool.name": "get_thing", "gen_ai.operation.name": "execute_tool"} {
		got, found := attrs.Value(attribute.Key(k))
		assert.True(t, found, k)
		assert.Equal(t, v, got.AsString(), k)
	}
	pv, _ := attrs.Value("mcp.protocol.version")
	assert.NotEmpty(t, pv.AsString())
	assert.False(t, attrs.HasValue("error.type"))
	assert.False(t, attrs.HasValue("mcp.session.id"), "no session id on protocol 2026-07-28")

	fattrs := attribute.NewSet(failed.Attributes()...)
	et, _ := fattrs.Value("error.type")
	assert.Equal(t, "tool_error", et.AsString())

	// The records carry the span's ids.
	finals := sink.finals()
	require.Len(t, finals, 2)
	assert.Equal(t, ok.SpanContext().TraceID().String(), finals[0].TraceID)
	assert.Equal(t, ok.SpanContext().SpanID().String(), finals[0].SpanID)

	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	var hist *metricdata.Histogram[float64]
	var unit string
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == "mcp.server.operation.duration" {
				h := m.Data.(metricdata.Histogram[float64])
				hist, unit = &h, m.Unit
			}
		}
	}
	require.NotNil(t, hist)
	assert.Equal(t, "s", unit)
	var total uint64
	for _, dp := range hist.DataPoints {
		total += dp.Count
	}
	assert.Equal(t, uint64(2), total)
}

// points returns the histogram points of the named metric.
func points(t *testing.T, reader *sdkmetric.ManualReader, name string) []metricdata.HistogramDataPoint[float64] {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	var out []metricdata.HistogramDataPoint[float64]
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				out = append(out, m.Data.(metricdata.Histogram[float64]).DataPoints...)
			}
		}
	}
	return out
}

// Without Instrument the middleware traces tools/call alone, by the same
// rules: a tool name the server does not have is nobody's span name,
// attribute or series.
func TestUnknownToolNameIsNeitherSpanNameAttributeNorSeries(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	sink := &memSink{}
	f := newFixture(t, sink, audit.WithTracerProvider(tp), audit.WithMeterProvider(mp))
	cs := mcpkittest.NewHarness(t, f.srv).Session

	const name = "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
	_, err := callTool(t, cs, name, map[string]any{})
	require.Error(t, err)

	ended := spans.Ended()
	require.Len(t, ended, 1)
	sp := ended[0]
	assert.Equal(t, "tools/call", sp.Name())
	attrs := attribute.NewSet(sp.Attributes()...)
	assert.False(t, attrs.HasValue("gen_ai.tool.name"))
	et, _ := attrs.Value("error.type")
	assert.Equal(t, "-32602", et.AsString())
	sc, _ := attrs.Value("rpc.response.status_code")
	assert.Equal(t, "-32602", sc.AsString())
	assert.NotContains(t, sp.Status().Description, name)
	assert.NotEmpty(t, sp.Status().Description)

	pts := points(t, reader, "mcp.server.operation.duration")
	require.Len(t, pts, 1)
	for _, kv := range pts[0].Attributes.ToSlice() {
		assert.NotContains(t, kv.Value.String(), "xoxb-", string(kv.Key))
	}
	assert.False(t, pts[0].Attributes.HasValue("gen_ai.tool.name"))

	finals := sink.finals()
	require.Len(t, finals, 1)
	assert.Equal(t, "unknown_tool", finals[0].Outcome)
	assert.NotContains(t, finals[0].Tool, "xoxb-", "the record redacts the name like an argument")
	assert.NotContains(t, finals[0].Error, "xoxb-")
}

// Over stdio every method is traced with network.transport=pipe, and the
// session's duration is recorded when input ends.
func TestStdioMethodsAreTracedAsPipeWithSessionDuration(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	f := newFixture(t, &memSink{}, audit.WithTracerProvider(tp), audit.WithMeterProvider(mp))
	f.auditor.Instrument(f.srv.MCPServer())

	in := strings.Join([]string{
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"sh","version":"1"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`,
		`{"jsonrpc":"2.0","id":"c-3","method":"tools/call","params":{"name":"get_thing","arguments":{"name":"a"}}}`,
		`{"jsonrpc":"2.0","id":4,"method":"ping"}`,
	}, "\n") + "\n"
	var out bytes.Buffer
	require.NoError(t, transport.ServeStdio(context.Background(), f.srv, transport.WithStdio(strings.NewReader(in), &out),
		transport.WithLocalScopes("things:read")))

	byName := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range spans.Ended() {
		byName[s.Name()] = s
	}
	for _, n := range []string{"initialize", "notifications/initialized", "tools/list", "tools/call get_thing", "ping"} {
		s, ok := byName[n]
		require.True(t, ok, "span %q; got %v", n, byName)
		attrs := attribute.NewSet(s.Attributes()...)
		tr, _ := attrs.Value("network.transport")
		assert.Equal(t, "pipe", tr.AsString(), n)
		assert.Equal(t, trace.SpanKindServer, s.SpanKind(), n)
		assert.False(t, attrs.HasValue("network.protocol.name"), n)
	}
	call := attribute.NewSet(byName["tools/call get_thing"].Attributes()...)
	id, _ := call.Value("jsonrpc.request.id")
	assert.Equal(t, "c-3", id.AsString(), "the stdio transport hands the server the JSON-RPC id")
	initAttrs := attribute.NewSet(byName["initialize"].Attributes()...)
	pv, _ := initAttrs.Value("mcp.protocol.version")
	assert.Equal(t, "2025-06-18", pv.AsString())

	for _, p := range points(t, reader, "mcp.server.operation.duration") {
		tr, _ := p.Attributes.Value("network.transport")
		assert.Equal(t, "pipe", tr.AsString())
	}
	var sessions []metricdata.HistogramDataPoint[float64]
	require.Eventually(t, func() bool {
		sessions = points(t, reader, "mcp.server.session.duration")
		return len(sessions) == 1
	}, 5*time.Second, 10*time.Millisecond)
	tr, _ := sessions[0].Attributes.Value("network.transport")
	assert.Equal(t, "pipe", tr.AsString())
	pv, _ = sessions[0].Attributes.Value("mcp.protocol.version")
	assert.Equal(t, "2025-06-18", pv.AsString())
	assert.False(t, sessions[0].Attributes.HasValue("error.type"), "input ending is a normal end")
}
