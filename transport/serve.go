package transport

import (
	"context"
	"errors"
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
	logger            *slog.Logger
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

// Serve is ListenAndServe on an existing listener. The server sets a
// header read timeout (10s) and an idle timeout (2m); there is no overall
// read or write timeout because MCP responses may stream for as long as a
// call runs.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, opts ...ServeOption) error {
	cfg := serveConfig{shutdownTimeout: 10 * time.Second, readHeaderTimeout: 10 * time.Second, idleTimeout: 2 * time.Minute}
	for _, o := range opts {
		o(&cfg)
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
		MaxHeaderBytes:    64 << 10,
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
