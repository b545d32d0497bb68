package audit_test

import (
	"context"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// A resources/read span keeps the method as its name and carries the URI
// (redacted) as mcp.resource.uri, never in the metric; a prompts/get span
// is named after a registered prompt only; a client's unknown URI or
// prompt name becomes no span name and no metric series.
func TestResourceAndPromptTelemetryFollowTheConventions(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	metrics := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(metrics))
	f := newAuditedResourceFixture(t, []audit.Option{audit.WithTracerProvider(tp), audit.WithMeterProvider(mp)})
	f.auditor.Instrument(f.srv.MCPServer())
	cs := mcpkittest.NewHarness(t, f.srv, mcpkittest.WithIdentity(reader)).Session
	ctx := context.Background()

	_, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "incident://INC-5"})
	require.NoError(t, err)
	_, err = cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "postmortem", Arguments: map[string]string{"id": "INC-5"}})
	require.NoError(t, err)
	_, err = cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "secret://" + plantedSecret})
	require.Error(t, err)
	_, err = cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: plantedSecret})
	require.Error(t, err)

	byName := map[string][]sdktrace.ReadOnlySpan{}
	for _, sp := range spans.Ended() {
		byName[sp.Name()] = append(byName[sp.Name()], sp)
		for _, kv := range sp.Attributes() {
			assert.NotContains(t, kv.Value.String(), plantedSecret, string(kv.Key))
		}
		assert.NotContains(t, sp.Status().Description, plantedSecret)
		assert.NotContains(t, sp.Name(), plantedSecret)
	}
	reads := byName["resources/read"]
	require.Len(t, reads, 2, "both reads are named resources/read, the URI never in the name")
	attrs := func(sp sdktrace.ReadOnlySpan) *attribute.Set { s := attribute.NewSet(sp.Attributes()...); return &s }
	uri, _ := attrs(reads[0]).Value("mcp.resource.uri")
	assert.Equal(t, "incident://INC-5", uri.AsString())
	unknownURI, _ := attrs(reads[1]).Value("mcp.resource.uri")
	assert.Contains(t, unknownURI.AsString(), "secret://")
	gets := byName["prompts/get postmortem"]
	require.Len(t, gets, 1)
	pn, _ := attrs(gets[0]).Value("gen_ai.prompt.name")
	assert.Equal(t, "postmortem", pn.AsString())
	require.Len(t, byName["prompts/get"], 1, "an unknown prompt's span keeps the bare method name")
	assert.False(t, attrs(byName["prompts/get"][0]).HasValue("gen_ai.prompt.name"))

	for _, pt := range points(t, metrics, "mcp.server.operation.duration") {
		assert.False(t, pt.Attributes.HasValue("mcp.resource.uri"), "a URI is no metric dimension")
		for _, kv := range pt.Attributes.ToSlice() {
			assert.NotContains(t, kv.Value.String(), plantedSecret, string(kv.Key))
		}
	}
}
