package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/transport"
)

const (
	serviceName = "orders"
	version     = "1.4.0"
)

// Config is what the service is built from.
type Config struct {
	Orders    OrderStore
	Keys      *APIKeys
	Telemetry *Telemetry
	// AuditPath is the hash-chained audit file of MCP tool calls, sealed
	// with AuditKeys.
	AuditPath string
	AuditKeys *audit.Keyring
	// ApprovalKeys sign in-client approval prompts.
	ApprovalKeys *approval.Keyring
	// ShutdownTimeout bounds how long in-flight requests (REST and MCP)
	// may run once shutdown begins; then their connections are closed.
	ShutdownTimeout time.Duration
	Logger          *slog.Logger
}

// Service is the existing orders service: its mux, its API, its auth, its
// telemetry, its http.Server. mountMCP is the only MCP-specific part.
type Service struct {
	cfg    Config
	log    *slog.Logger
	tracer trace.Tracer
	http   *http.Server

	mcp     *transport.Handler
	auditor *audit.Auditor
	sink    audit.Sink
	calls   *inflight
}

// flushTimeout bounds the wait, after the HTTP server has stopped, for
// calls cut off at the shutdown bound to write their final audit records.
const flushTimeout = 2 * time.Second

// NewService builds the service and its routes.
func NewService(cfg Config) (*Service, error) {
	if cfg.Orders == nil || cfg.Keys == nil || cfg.Telemetry == nil || cfg.ApprovalKeys == nil || cfg.AuditPath == "" || cfg.AuditKeys == nil {
		return nil, errors.New("service: Orders, Keys, Telemetry, ApprovalKeys, AuditPath and AuditKeys are required")
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{cfg: cfg, log: cfg.Logger, tracer: cfg.Telemetry.Traces.Tracer("example.com/orders"), calls: newInflight()}

	mux := http.NewServeMux()
	s.registerAPI(mux)
	if err := s.mountMCP(mux); err != nil {
		return nil, err
	}
	s.http = &http.Server{
		Handler:           traced(s.tracer, mux),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// Serve serves on ln until ctx is cancelled, then shuts down: /readyz
// turns 503, the listener closes, in-flight requests (REST and MCP) get
// ShutdownTimeout to finish before their connections are closed, and the
// audit sinks are flushed and closed once the last call's record is
// written. The service's telemetry providers are the caller's to shut
// down, after Serve returns.
func (s *Service) Serve(ctx context.Context, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(ln) }()
	select {
	case err := <-errc:
		s.calls.Abort()
		return errors.Join(err, s.closeAudit())
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "timeout", s.cfg.ShutdownTimeout)
	s.mcp.StartDrain()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	err := s.http.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		// The calls still running are cancelled, unwind and write their
		// final records; their connections are closed.
		s.log.Warn("shutdown timeout passed; cancelling the requests still running")
		s.calls.Abort()
		err = s.http.Close()
	}
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return errors.Join(err, s.closeAudit())
}

func (s *Service) closeAudit() error {
	wctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
	defer cancel()
	if n, err := s.calls.Wait(wctx); err != nil {
		s.log.Error("audit: tool calls still running at close; their final records are lost", "calls", n)
	}
	cctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
	defer cancel()
	// The last refusal summaries first, then the sink.
	return errors.Join(s.auditor.Close(cctx), audit.Close(cctx, s.sink))
}
