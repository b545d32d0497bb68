package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// ServeOption configures ListenAndServe and Serve.
type ServeOption func(*serveConfig)

type serveConfig struct {
	shutdownTimeout   time.Duration
	readHeaderTimeout time.Duration
	idleTimeout       time.Duration
	maxHeaderBytes    int
	logger            *slog.Logger
}

// WithReadHeaderTimeout bounds how long a client may take to send a
// request's headers (default 10s); a slower one is disconnected. The body
// has its own bound (WithBodyReadTimeout on the Handler).
func WithReadHeaderTimeout(d time.Duration) ServeOption {
	return func(c *serveConfig) { c.readHeaderTimeout = d }
}

// WithIdleTimeout closes a keep-alive connection that carries no request
// for d (default 2m).
func WithIdleTimeout(d time.Duration) ServeOption {
	return func(c *serveConfig) { c.idleTimeout = d }
}

// WithMaxHeaderBytes bounds a request's headers (default 64 KiB; 431
// past it).
func WithMaxHeaderBytes(n int) ServeOption {
	return func(c *serveConfig) { c.maxHeaderBytes = n }
}

// WithShutdownTimeout bounds how long in-flight calls may run after ctx is
// cancelled (default 10s); then remaining connections are closed.
func WithShutdownTimeout(d time.Duration) ServeOption {
	return func(c *serveConfig) { c.shutdownTimeout = d }
}

// WithServeLogger sets where the HTTP server logs its own errors.
func WithServeLogger(l *slog.Logger) ServeOption { return func(c *serveConfig) { c.logger = l } }

// ListenAndServe listens on addr and serves h until ctx is cancelled, then
// shuts down gracefully. If h can refuse an address (a Handler with static
// development tokens on a non-loopback address), it does before listening.
func ListenAndServe(ctx context.Context, addr string, h http.Handler, opts ...ServeOption) error {
	if c, ok := h.(interface{ CheckListenAddr(string) error }); ok {
		if err := c.CheckListenAddr(addr); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return Serve(ctx, ln, h, opts...)
}

// Serve is ListenAndServe on an existing listener. Every read is bounded:
// headers by WithReadHeaderTimeout (10s) and WithMaxHeaderBytes (64 KiB),
// a POST body by the Handler's WithBodyReadTimeout (30s), an idle
// keep-alive connection by WithIdleTimeout (2m). There is no overall read
// or write timeout: it would end GET streams, and MCP responses may stream
// for as long as a call runs.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, opts ...ServeOption) error {
	cfg := serveConfig{shutdownTimeout: 10 * time.Second, readHeaderTimeout: 10 * time.Second, idleTimeout: 2 * time.Minute,
		maxHeaderBytes: 64 << 10}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.readHeaderTimeout <= 0 || cfg.idleTimeout <= 0 || cfg.maxHeaderBytes <= 0 || cfg.shutdownTimeout <= 0 {
		_ = ln.Close()
		return fmt.Errorf("transport: serve bounds must be positive (read header timeout %v, idle timeout %v, max header bytes %d, shutdown timeout %v)",
			cfg.readHeaderTimeout, cfg.idleTimeout, cfg.maxHeaderBytes, cfg.shutdownTimeout)
	}
	if c, ok := h.(interface{ CheckListenAddr(string) error }); ok {
		if err := c.CheckListenAddr(ln.Addr().String()); err != nil {
			_ = ln.Close()
			return err
		}
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: cfg.readHeaderTimeout,
		IdleTimeout:       cfg.idleTimeout,
		MaxHeaderBytes:    cfg.maxHeaderBytes,
	}
	if cfg.logger != nil {
		srv.ErrorLog = slog.NewLogLogger(cfg.logger.Handler(), slog.LevelWarn)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	if d, ok := h.(interface{ StartDrain() }); ok {
		d.StartDrain()
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.shutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		// Streams (a standalone SSE GET) never go idle by themselves.
		err = srv.Close()
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	return err
}
