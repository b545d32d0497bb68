package otlp_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	collogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetrics "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/serve"
	"github.com/mcpkit-go/mcpkit/serve/otlp"
)

// receiver is an OTLP/HTTP collector that decodes what it receives.
type receiver struct {
	mu       sync.Mutex
	spans    map[string]map[string]string // span name -> string attributes
	resource map[string]string            // of the last spans
	metrics  map[string]bool
	logs     []map[string]string
	paths    []string
}

func newReceiver() *receiver {
	return &receiver{spans: map[string]map[string]string{}, metrics: map[string]bool{}}
}

func (o *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "want protobuf", http.StatusBadRequest)
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.paths = append(o.paths, r.URL.Path)
	var resp proto.Message
	switch r.URL.Path {
	case "/v1/traces":
		var req coltrace.ExportTraceServiceRequest
		if err := proto.Unmarshal(body, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for _, rs := range req.ResourceSpans {
			o.resource = map[string]string{}
			for _, kv := range rs.Resource.GetAttributes() {
				o.resource[kv.Key] = kv.Value.GetStringValue()
			}
			for _, ss := range rs.ScopeSpans {
				for _, sp := range ss.Spans {
					attrs := map[string]string{}
					for _, kv := range sp.Attributes {
						attrs[kv.Key] = kv.Value.GetStringValue()
					}
					o.spans[sp.Name] = attrs
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
					o.metrics[m.Name] = true
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
					attrs := map[string]string{"event_name": lr.EventName}
					for _, kv := range lr.Attributes {
						attrs[kv.Key] = kv.Value.GetStringValue()
					}
					o.logs = append(o.logs, attrs)
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

type greetIn struct {
	Name string `json:"name" jsonschema:"description=Who to greet"`
}

type greetOut struct {
	Greeting string `json:"greeting" jsonschema:"description=The greeting"`
}

func greeter(srv *mcpkit.Server) error {
	return mcpkit.AddTool(srv, mcpkit.Tool{
		Name: "get_greeting", Description: "Get a greeting for someone.",
		Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Scopes: []string{"greet:read"}},
	}, func(_ context.Context, in greetIn) (greetOut, error) {
		return greetOut{Greeting: "hello " + in.Name}, nil
	})
}

func noEnv(string) string { return "" }

// runStdio serves cfg over in-process pipes, calls get_greeting once with a go-sdk
// client, closes the client and waits for the server to stop.
func runStdio(t *testing.T, cfg serve.Config, args ...string) {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := serve.Run(context.Background(), cfg, args, serve.IO{Stdin: inR, Stdout: outW, Stderr: io.Discard, Getenv: noEnv})
		_ = outW.Close()
		done <- err
	}()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil).
		Connect(context.Background(), &mcp.IOTransport{Reader: outR, Writer: inW}, nil)
	if err != nil {
		t.Fatalf("connect: %v; server: %v", err, <-done)
	}
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_greeting", Arguments: map[string]any{"name": "ada"}})
	require.NoError(t, err)
	require.False(t, res.IsError)
	require.NoError(t, cs.Close())
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(20 * time.Second):
		t.Fatal("server did not stop")
	}
}

// With OTEL_EXPORTER_OTLP_ENDPOINT set, a real tool call reaches a real
// OTLP/HTTP collector as a span with the MCP attributes, a duration point
// and an audit log record, under the server's name; the providers are
// flushed when the server stops.
func TestFromEnvExportsARealCall(t *testing.T) {
	recv := newReceiver()
	collector := httptest.NewServer(recv)
	defer collector.Close()
	t.Setenv(otlp.EnvEndpoint, collector.URL)
	t.Setenv("OTEL_SERVICE_NAME", "")
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=test")

	cfg := serve.Config{Name: "greeter", Version: "0.3.0", Scopes: []string{"greet:read"}, Tools: greeter, Telemetry: otlp.FromEnv}
	runStdio(t, cfg, "-audit", filepath.Join(t.TempDir(), "a.jsonl"))

	recv.mu.Lock()
	defer recv.mu.Unlock()
	span, ok := recv.spans["tools/call get_greeting"]
	require.True(t, ok, "spans received: %v (paths %v)", recv.spans, recv.paths)
	assert.Equal(t, "tools/call", span["mcp.method.name"])
	assert.Equal(t, "get_greeting", span["gen_ai.tool.name"])
	assert.Equal(t, "greeter", recv.resource["service.name"])
	assert.Equal(t, "0.3.0", recv.resource["service.version"])
	assert.Equal(t, "test", recv.resource["deployment.environment.name"])
	assert.True(t, recv.metrics["mcp.server.operation.duration"], "metrics received: %v", recv.metrics)
	var tools []string
	for _, l := range recv.logs {
		if l["event_name"] == audit.EventName {
			tools = append(tools, l["tool"]+" "+l["outcome"])
		}
	}
	assert.Equal(t, []string{"get_greeting ok"}, tools)
}

// A signal's own endpoint turns on that signal only.
func TestFromEnvSignalEndpoints(t *testing.T) {
	recv := newReceiver()
	collector := httptest.NewServer(recv)
	defer collector.Close()
	t.Setenv(otlp.EnvEndpoint, "")
	t.Setenv(otlp.EnvTracesEndpoint, collector.URL+"/v1/traces")

	tel, err := otlp.FromEnv(context.Background(), "greeter", "0.3.0")
	require.NoError(t, err)
	require.NotNil(t, tel)
	assert.NotNil(t, tel.TracerProvider)
	assert.Nil(t, tel.MeterProvider)
	assert.Nil(t, tel.LoggerProvider)
	require.NoError(t, tel.Shutdown(context.Background()))
}

// Without an endpoint, or with the SDK disabled, nothing is exported and no
// provider is built.
func TestFromEnvOff(t *testing.T) {
	for _, env := range []map[string]string{
		{},
		{otlp.EnvEndpoint: "http://127.0.0.1:1", "OTEL_SDK_DISABLED": "true"},
	} {
		for _, k := range []string{otlp.EnvEndpoint, otlp.EnvTracesEndpoint, otlp.EnvMetricsEndpoint, otlp.EnvLogsEndpoint, "OTEL_SDK_DISABLED"} {
			t.Setenv(k, env[k])
		}
		tel, err := otlp.FromEnv(context.Background(), "greeter", "0.3.0")
		require.NoError(t, err)
		assert.Nil(t, tel, "%v", env)
	}
}

// A protocol the linked exporters cannot speak is a startup error, not
// protobuf sent to a gRPC port.
func TestFromEnvRefusesOtherProtocols(t *testing.T) {
	t.Setenv(otlp.EnvEndpoint, "http://127.0.0.1:4317")
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
	_, err := otlp.FromEnv(context.Background(), "greeter", "0.3.0")
	require.ErrorContains(t, err, `$OTEL_EXPORTER_OTLP_PROTOCOL="grpc": this server exports OTLP over http/protobuf only`)

	cfg := serve.Config{Name: "greeter", Version: "0.3.0", Tools: greeter, Telemetry: otlp.FromEnv}
	_, err = serve.New(context.Background(), cfg, []string{"-audit", filepath.Join(t.TempDir(), "a.jsonl")}, serve.IO{Stderr: io.Discard, Getenv: noEnv})
	require.ErrorContains(t, err, "http/protobuf only")

	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf")
	t.Setenv("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/protobuf")
	t.Setenv("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "http/protobuf")
	tel, err := otlp.FromEnv(context.Background(), "greeter", "0.3.0")
	require.NoError(t, err, "a signal's own protocol wins over the general one")
	require.NotNil(t, tel)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = tel.Shutdown(ctx) // nothing listens on 4317: the final flush fails

}
