package serve

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// cleanupTimeout bounds the cleanups (audit flush, telemetry shutdown,
// console stop) when the caller's context has already ended.
const cleanupTimeout = 10 * time.Second

// Main runs the server described by cfg with the process's arguments and
// streams until SIGINT or SIGTERM (or, on stdio, end of input). On error
// it prints the error to stderr and exits 1; -help prints the flags.
func Main(cfg Config) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := Run(ctx, cfg, os.Args[1:], IO{})
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return // -help printed the usage
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", cfg.Name, err)
		os.Exit(1)
	}
}

// Run is New, Serve and Close: it parses args, sets everything up, serves
// until ctx ends (or, on stdio, until the client closes stdin) and then
// flushes and closes what it opened.
func Run(ctx context.Context, cfg Config, args []string, stdio IO) (err error) {
	s, err := New(ctx, cfg, args, stdio)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, s.Close(context.WithoutCancel(ctx))) }()
	return s.Serve(ctx)
}

// Server is a server set up from a Config and a command line, not yet
// serving: its audit file is open, its flag file loaded, its approval
// console listening. Serve it once, then Close it.
type Server struct {
	srv    *mcpkit.Server
	env    *env
	logger *slog.Logger

	// stops run in reverse order at Close: the features' stop functions,
	// cleanups, Prepare's close.
	stops     []func(context.Context) error
	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// New validates cfg, parses args into serve's flags and cfg.Flags, and sets
// up the transport, audit, flags and approval features in that order,
// then creates the mcpkit server with their options and registers the
// tools with cfg.Tools. Any error (a bad flag combination, a missing key,
// an address -no-auth may not use) is returned before anything serves,
// after undoing what was already set up.
func New(ctx context.Context, cfg Config, args []string, stdio IO) (*Server, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	stdio = stdio.withDefaults()
	fs, fts := flagSet(cfg, stdio.Stderr)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q: every option is a flag (see -help)", fs.Args())
	}
	for _, f := range fts {
		if f.check != nil {
			if err := f.check(); err != nil {
				return nil, err
			}
		}
	}
	if cfg.Check != nil {
		if err := cfg.Check(); err != nil {
			return nil, err
		}
	}
	// Log lines quote what clients send (a refused Origin, a token's
	// parse error): they are masked as the audit record is.
	logger := slog.New(audit.RedactLogs(slog.NewTextHandler(stdio.Stderr, nil), nil))
	s := &Server{env: &env{logger: logger, io: stdio}, logger: logger}
	if err := s.setUp(ctx, cfg, fts); err != nil {
		_ = s.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return s, nil
}

// setUp runs Prepare, sets the features up, builds the server and
// registers the tools; what it opened is in s.stops, also on error.
func (s *Server) setUp(ctx context.Context, cfg Config, fts []feature) error {
	logger := s.logger
	if cfg.Prepare != nil {
		closeFn, err := cfg.Prepare(ctx, logger)
		if err != nil {
			return err
		}
		if closeFn != nil {
			s.stops = append(s.stops, func(context.Context) error { closeFn(); return nil })
		}
	}
	opts := []mcpkit.Option{mcpkit.WithLogger(logger)}
	for _, f := range fts {
		if f.setup == nil {
			continue
		}
		o, cleanup, err := f.setup(ctx, s.env)
		if cleanup != nil {
			s.stops = append(s.stops, cleanup)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
		opts = append(opts, o...)
	}
	srv, err := mcpkit.NewServer(&mcp.Implementation{Name: cfg.Name, Title: cfg.Title, Version: cfg.Version}, append(opts, cfg.Options...)...)
	if err != nil {
		return err
	}
	if err := cfg.Tools(srv); err != nil {
		return fmt.Errorf("registering tools: %w", err)
	}
	if s.env.auditor != nil {
		if err := checkParamHeaderSecrets(srv, s.env.auditor.Redactor()); err != nil {
			return fmt.Errorf("registering tools: %w", err)
		}
	}
	for _, f := range fts {
		if f.started == nil {
			continue
		}
		if stop := f.started(srv); stop != nil {
			s.stops = append(s.stops, func(context.Context) error { stop(); return nil })
		}
	}
	s.srv = srv
	return nil
}

// MCP is the mcpkit server with the tools and every feature's middleware:
// connect a client to srv.MCP().MCPServer() in memory to test it.
func (s *Server) MCP() *mcpkit.Server { return s.srv }

// Serve serves over stdio or HTTP, as the flags said, until ctx ends or,
// on stdio, the client closes stdin. A clean stop returns nil. Call Close
// after it returns; a closed Server refuses to serve.
func (s *Server) Serve(ctx context.Context) error {
	if s.closed.Load() {
		return errors.New("serve: Serve after Close: the audit file and console are closed; call New again")
	}
	if s.env.serve == nil {
		return errors.New("serve: no transport configured")
	}
	return s.env.serve(ctx, s.srv)
}

// Close stops what New started, newest first: the flag watcher, the
// approval console, the audit refusal summaries and file, the telemetry
// providers, and Prepare's close. Each gets ctx, bounded to 10 seconds.
// Errors are logged and returned together; Close is safe to call twice.
func (s *Server) Close(ctx context.Context) error {
	s.closed.Store(true)
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(ctx, cleanupTimeout)
		defer cancel()
		var errs []error
		for i := len(s.stops) - 1; i >= 0; i-- {
			if err := s.stops[i](ctx); err != nil {
				s.logger.Error("cleanup failed", "error", err)
				errs = append(errs, err)
			}
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}
