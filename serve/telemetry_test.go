package serve_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/serve"
)

// spans is a TracerProvider that records the names of the spans started,
// so that the test needs no OpenTelemetry SDK.
type spans struct {
	noop.TracerProvider
	mu    sync.Mutex
	names []string
}

func (p *spans) Tracer(string, ...trace.TracerOption) trace.Tracer { return tracer{p: p} }

func (p *spans) started() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.names...)
}

type tracer struct {
	noop.Tracer
	p *spans
}

func (t tracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	t.p.mu.Lock()
	t.p.names = append(t.p.names, name)
	t.p.mu.Unlock()
	return t.Tracer.Start(ctx, name, opts...)
}

// Config.Telemetry's providers see the server's requests, and its Shutdown
// runs once, after the audit file is closed.
func TestTelemetryProvidersAreUsedAndShutDownLast(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.jsonl")
	tp := &spans{}
	var gotName, gotVersion string
	shutdowns := 0
	var fileClosedAtShutdown bool
	cfg := notesConfig(&ran{})
	cfg.Telemetry = func(_ context.Context, name, version string) (*serve.Telemetry, error) {
		gotName, gotVersion = name, version
		return &serve.Telemetry{TracerProvider: tp, Shutdown: func(context.Context) error {
			shutdowns++
			recs := readAudit(t, path)
			fileClosedAtShutdown = recs[len(recs)-1].Kind == audit.KindCheckpoint
			return nil
		}}, nil
	}
	cs, done := stdioServer(t, cfg, "-audit", path)
	_, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_note", Arguments: map[string]any{"id": "n1"}})
	require.NoError(t, err)
	require.NoError(t, cs.Close())
	waitDone(t, done)
	assert.Equal(t, "notes", gotName)
	assert.Equal(t, "1.0.0", gotVersion)
	assert.Contains(t, tp.started(), "tools/call")
	assert.Equal(t, 1, shutdowns)
	assert.True(t, fileClosedAtShutdown, "telemetry shut down before the audit file was closed")
}

// A telemetry setup error stops the server before the audit file opens.
func TestTelemetryErrorFailsStartup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.jsonl")
	cfg := notesConfig(&ran{})
	cfg.Telemetry = func(context.Context, string, string) (*serve.Telemetry, error) {
		return nil, errors.New("OTEL_EXPORTER_OTLP_PROTOCOL grpc is not supported")
	}
	_, err := serve.New(context.Background(), cfg, []string{"-audit", path}, serve.IO{Stderr: io.Discard, Getenv: noEnv})
	require.ErrorContains(t, err, "audit: telemetry: OTEL_EXPORTER_OTLP_PROTOCOL grpc is not supported")
	_, statErr := os.Stat(path)
	assert.ErrorIs(t, statErr, os.ErrNotExist)
}
