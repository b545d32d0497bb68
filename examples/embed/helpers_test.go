package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// The service's own API keys, in its own format.
const (
	readerKey   = "sk_test_reader_0123456789abcdef"
	operatorKey = "sk_test_operator_0123456789abcdef"
	testKeys    = "reader:support:orders:read:" + readerKey + ",operator:fulfilment:orders:read+orders:write:" + operatorKey
)

// testService is the whole service running in-process on 127.0.0.1:0 with
// in-memory OpenTelemetry exporters behind its own providers.
type testService struct {
	base      string
	auditPath string
	auditKeys *audit.Keyring
	tel       *Telemetry
	spans     *tracetest.InMemoryExporter
	metrics   *sdkmetric.ManualReader
	logs      *memLogs
	cancel    context.CancelFunc
	done      chan error
	stopped   bool
}

func startService(t *testing.T, orders OrderStore, shutdownTimeout time.Duration) *testService {
	t.Helper()
	st, err := newTestService(t.TempDir(), orders, shutdownTimeout)
	require.NoError(t, err)
	t.Cleanup(func() {
		if !st.stopped {
			st.stop(t)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, st.tel.Shutdown(ctx))
	})
	return st
}

func newTestService(dir string, orders OrderStore, shutdownTimeout time.Duration) (*testService, error) {
	keys, err := ParseAPIKeys(testKeys)
	if err != nil {
		return nil, err
	}
	kr, err := approval.NewKeyring(approval.Key{ID: "test", Secret: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		return nil, err
	}
	st := &testService{
		auditPath: filepath.Join(dir, "audit.jsonl"),
		spans:     tracetest.NewInMemoryExporter(),
		metrics:   sdkmetric.NewManualReader(),
		logs:      &memLogs{},
		done:      make(chan error, 1),
	}
	st.tel = &Telemetry{
		Traces:  sdktrace.NewTracerProvider(sdktrace.WithSyncer(st.spans)),
		Metrics: sdkmetric.NewMeterProvider(sdkmetric.WithReader(st.metrics)),
		Logs:    sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(st.logs))),
	}
	st.auditKeys, err = audit.NewKeyring(audit.Key{ID: "test", Secret: []byte("audit-test-key-0123456789abcdef!")})
	if err != nil {
		return nil, err
	}
	svc, err := NewService(Config{Orders: orders, Keys: keys, Telemetry: st.tel, AuditPath: st.auditPath, AuditKeys: st.auditKeys,
		ApprovalKeys: kr, ShutdownTimeout: shutdownTimeout})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, errors.Join(err, svc.closeAudit())
	}
	st.base = "http://" + ln.Addr().String()
	var ctx context.Context
	ctx, st.cancel = context.WithCancel(context.Background())
	go func() { st.done <- svc.Serve(ctx, ln) }()
	return st, nil
}

// stop cancels the service's context (what SIGTERM does in main), waits
// for Serve to return and flushes the providers (shut down at cleanup:
// the in-memory span exporter forgets its spans on shutdown).
func (st *testService) stop(t *testing.T) error {
	t.Helper()
	st.stopped = true
	st.cancel()
	var err error
	select {
	case err = <-st.done:
	case <-time.After(15 * time.Second):
		t.Fatal("Serve did not return after the context was cancelled")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, st.tel.Traces.ForceFlush(ctx))
	require.NoError(t, st.tel.Logs.ForceFlush(ctx))
	return err
}

// keyClient sends the service's own credential on every request.
func keyClient(key string) *http.Client {
	return &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		if key != "" {
			r.Header.Set("Authorization", "Bearer "+key)
		}
		return http.DefaultTransport.RoundTrip(r)
	})}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// connect opens a real go-sdk client session over streamable HTTP.
func connect(t *testing.T, base, key string, opts *mcp.ClientOptions) *mcp.ClientSession {
	t.Helper()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test-agent", Version: "0.1.0"}, opts).
		Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: base + "/mcp", HTTPClient: keyClient(key)}, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

func decline() *mcp.ClientOptions {
	return &mcp.ClientOptions{ElicitationHandler: func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
		return &mcp.ElicitResult{Action: "decline"}, nil
	}}
}

func structured(t *testing.T, res *mcp.CallToolResult, into any) {
	t.Helper()
	require.NotNil(t, res)
	require.False(t, res.IsError, "tool error: %s", mcpkittest.Text(res))
	b, err := json.Marshal(res.StructuredContent)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, into))
}

// finalRecord returns the one final record of a call to tool, failing if
// there is not exactly one.
func finalRecords(records []audit.Record, tool string) []audit.Record {
	var out []audit.Record
	for _, r := range records {
		if r.Tool == tool && r.Phase == "" {
			out = append(out, r)
		}
	}
	return out
}

// memLogs is an in-memory sdk/log exporter (sdk/log v0.22.0 ships none).
type memLogs struct {
	mu      sync.Mutex
	records []sdklog.Record
}

func (m *memLogs) Export(_ context.Context, rs []sdklog.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range rs {
		m.records = append(m.records, r.Clone())
	}
	return nil
}

func (m *memLogs) Shutdown(context.Context) error   { return nil }
func (m *memLogs) ForceFlush(context.Context) error { return nil }

func (m *memLogs) all() []sdklog.Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]sdklog.Record(nil), m.records...)
}

// slowOrders is the real store behind a backend that blocks Get until
// released (or until the request's context ends), to hold a call in flight.
type slowOrders struct {
	OrderStore
	started chan struct{}
	release chan struct{}
	once    sync.Once
}

func newSlowOrders() *slowOrders {
	return &slowOrders{OrderStore: newMemoryOrders(), started: make(chan struct{}), release: make(chan struct{})}
}

func (s *slowOrders) Get(ctx context.Context, id string) (Order, error) {
	s.once.Do(func() { close(s.started) })
	select {
	case <-s.release:
	case <-ctx.Done():
		return Order{}, ctx.Err()
	}
	return s.OrderStore.Get(ctx, id)
}

func get(t *testing.T, url, key string) (int, http.Header, []byte) {
	t.Helper()
	return do(t, http.MethodGet, url, key, "")
}

func do(t *testing.T, method, url, key, body string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := keyClient(key).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, b
}

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting for " + what)
	}
}
