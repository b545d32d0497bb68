package audit_test

import (
	"context"
	"testing"

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
)

func TestSpansAndMetricFollowTheMCPConventions(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	sink := &memSink{}
	f := newFixture(t, sink, audit.WithTracerProvider(tp), audit.WithMeterProvider(mp))
	cs := connect(t, f.srv)

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
