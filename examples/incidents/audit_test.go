package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
	"github.com/mcpkit-go/mcpkit/examples/internal/servertest"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// otlpReceiver is an OTLP/HTTP endpoint that decodes what it receives.
type otlpReceiver struct {
	mu      sync.Mutex
	spans   map[string]map[string]string // span name -> string attributes
	metrics map[string]bool
	logs    []map[string]string // attributes of each log record
}

func (o *otlpReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "want protobuf", http.StatusBadRequest)
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
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
					o.metrics[m.Name+" "+m.Unit] = true
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
					attrs := map[string]string{"event_name": lr.EventName, "trace_id_bytes": string(lr.TraceId)}
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

// auditServer sets the server up with args, as main does, and returns it
// plus its close (which flushes and closes the audit file).
func auditServer(t *testing.T, args ...string) (*mcpkit.Server, func(context.Context) error) {
	t.Helper()
	store, err := NewStore(time.Now)
	require.NoError(t, err)
	return setUp(t, store, mcpkit.Identity{Subject: "tester", Scopes: AllScopes, AuthMethod: "local", Transport: "stdio"}, args...)
}

func TestAuditExportsSpansMetricAndLogsOverOTLP(t *testing.T) {
	recv := &otlpReceiver{spans: map[string]map[string]string{}, metrics: map[string]bool{}}
	collector := httptest.NewServer(recv)
	defer collector.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	path := filepath.Join(t.TempDir(), "audit.jsonl")

	srv, cleanup := auditServer(t, "-audit", path)
	cs := mcpkittest.NewHarness(t, srv).Session
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "list_incidents", Arguments: map[string]any{"limit": 2}})
	require.NoError(t, err)
	require.False(t, res.IsError)
	_, err = cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_incident", Arguments: map[string]any{"id": "INC-0000"}})
	require.NoError(t, err)
	require.NoError(t, cleanup(context.Background()))

	recv.mu.Lock()
	defer recv.mu.Unlock()
	span, ok := recv.spans["tools/call list_incidents"]
	require.True(t, ok, "spans received: %v", recv.spans)
	assert.Equal(t, "tools/call", span["mcp.method.name"])
	assert.Equal(t, "list_incidents", span["gen_ai.tool.name"])
	assert.Equal(t, "execute_tool", span["gen_ai.operation.name"])
	assert.True(t, recv.metrics["mcp.server.operation.duration s"], "metrics received: %v", recv.metrics)
	// Every method is traced, not only tools/call (protocol 2026-07-28
	// has no initialize: the client discovers the server instead).
	assert.Equal(t, "server/discover", recv.spans["server/discover"]["mcp.method.name"], "spans received: %v", recv.spans)
	var tools, checkpoints []string
	for _, l := range recv.logs {
		if l["event_name"] == audit.CheckpointEventName {
			checkpoints = append(checkpoints, l["reason"])
			assert.NotEmpty(t, l["mac"], "checkpoints are signed")
			continue
		}
		assert.Equal(t, audit.EventName, l["event_name"])
		assert.Len(t, l["trace_id_bytes"], 16, "log records carry the call's trace id")
		assert.NotEmpty(t, l["hash"], "log records carry the chain position")
		tools = append(tools, l["tool"]+" "+l["outcome"])
	}
	assert.ElementsMatch(t, []string{"list_incidents ok", "get_incident " + recvOutcome(recv, "get_incident")}, tools)
	assert.Equal(t, []string{"open", "close"}, checkpoints, "the log's checkpoints reach the collector")

	res2, err := servertest.VerifyAudit(t, path)
	require.NoError(t, err)
	assert.Equal(t, 2, res2.Calls)
}

func recvOutcome(o *otlpReceiver, tool string) string {
	for _, l := range o.logs {
		if l["tool"] == tool {
			return l["outcome"]
		}
	}
	return "missing"
}

func TestAuditFileOfTheExampleVerifies(t *testing.T) {
	path := filepath.Join(t.TempDir(), "incidents-audit.jsonl")
	srv, cleanup := auditServer(t, "-audit", path)
	cs := mcpkittest.NewHarness(t, srv).Session
	for range 3 {
		_, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "list_incidents", Arguments: map[string]any{}})
		require.NoError(t, err)
	}
	require.NoError(t, cleanup(context.Background()))

	// The command a reviewer runs.
	if testing.Short() {
		t.Skip("skipping go run in -short mode")
	}
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	cmd := exec.Command("go", "run", "./audit/cmd/auditverify", "-keys", path+".key", "-rotated", path)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Contains(t, string(out), "(3 calls)")

	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, []byte(strings.Replace(string(b), `"subject":"tester"`, `"subject":"someone"`, 1)), 0o600))
	cmd = exec.Command("go", "run", "./audit/cmd/auditverify", "-keys", path+".key", "-rotated", path)
	cmd.Dir = root
	out, err = cmd.CombinedOutput()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 1, ee.ExitCode())
	assert.Contains(t, string(out), path+":3: [altered] MAC mismatch at seq 3")
}
