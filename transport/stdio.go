package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"time"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// StdioOption configures ServeStdio.
type StdioOption func(*stdioConfig)

type stdioConfig struct {
	identity    *mcpkit.Identity
	scopes      []string
	in          io.Reader
	out         io.Writer
	maxLine     int
	drain       time.Duration
	stopTimeout time.Duration
	logger      *slog.Logger
	onReject    func(context.Context, Rejection)
}

// WithIdentity sets who the stdio caller is. The default is the OS user
// (LocalIdentity) with the scopes given by WithLocalScopes.
func WithIdentity(id mcpkit.Identity) StdioOption {
	return func(c *stdioConfig) { c.identity = &id }
}

// WithLocalScopes sets the scopes of the default local identity.
func WithLocalScopes(scopes ...string) StdioOption {
	return func(c *stdioConfig) { c.scopes = scopes }
}

// WithStdio replaces os.Stdin and os.Stdout, for tests and for servers that
// speak over other pipes.
func WithStdio(in io.Reader, out io.Writer) StdioOption {
	return func(c *stdioConfig) { c.in, c.out = in, out }
}

// WithMaxLineBytes bounds one inbound message (default 4 MiB). A longer
// line is answered with an error and skipped.
func WithMaxLineBytes(n int) StdioOption {
	return func(c *stdioConfig) { c.maxLine = n }
}

// WithDrainTimeout bounds how long, after end of input, the server keeps
// answering requests it has already read (default 30s).
func WithDrainTimeout(d time.Duration) StdioOption {
	return func(c *stdioConfig) { c.drain = d }
}

// WithStdioLogger sets where transport problems are logged (never stdout).
func WithStdioLogger(l *slog.Logger) StdioOption {
	return func(c *stdioConfig) { c.logger = l }
}

// WithStdioRejectHook is called for every message the transport answers
// itself instead of passing it to the server: today a tools/call whose
// params do not decode (Status 400, as HTTP would answer it). Use it to
// audit such calls with audit.Auditor.Refused, as with WithRejectHook.
func WithStdioRejectHook(f func(ctx context.Context, rej Rejection)) StdioOption {
	return func(c *stdioConfig) { c.onReject = f }
}

// LocalIdentity is the engineer running the server on their own machine:
// the OS user, authenticated by the OS ("local"), over stdio.
func LocalIdentity(scopes ...string) mcpkit.Identity {
	name := "local"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	return mcpkit.Identity{Subject: name, Scopes: scopes, AuthMethod: "local", Transport: "stdio"}
}

// ServeStdio serves srv over stdin/stdout as one local caller until input
// ends or ctx is cancelled. It writes nothing but protocol messages to
// stdout. At end of input it first answers every request already read
// (bounded by WithDrainTimeout); on cancellation it lets in-flight calls
// finish for a bounded time. Both are clean exits and return nil.
func ServeStdio(ctx context.Context, srv *mcpkit.Server, opts ...StdioOption) error {
	cfg := stdioConfig{
		in:          os.Stdin,
		out:         os.Stdout,
		maxLine:     4 << 20,
		drain:       30 * time.Second,
		stopTimeout: 10 * time.Second,
	}
	for _, o := range opts {
		o(&cfg)
	}
	switch {
	case cfg.maxLine <= 0:
		return fmt.Errorf("transport: WithMaxLineBytes needs a positive size, got %d", cfg.maxLine)
	case cfg.drain < 0:
		return fmt.Errorf("transport: WithDrainTimeout needs a duration of at least 0, got %v", cfg.drain)
	case cfg.in == nil || cfg.out == nil:
		return errors.New("transport: WithStdio needs a reader and a writer, got nil")
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	id := LocalIdentity(cfg.scopes...)
	if cfg.identity != nil {
		id = *cfg.identity
	}
	if id.Transport == "" {
		id.Transport = "stdio"
	}
	// The SDK derives every request's context from the one given to
	// Connect, so the identity rides on it to each call.
	runCtx := mcpkit.ContextWithIdentity(context.WithoutCancel(ctx), id)
	t := &lineTransport{r: cfg.in, w: cfg.out, maxLine: cfg.maxLine, drain: cfg.drain, logger: cfg.logger, shutdown: ctx.Done(),
		identity: id, onReject: cfg.onReject}
	ss, err := srv.MCPServer().Connect(runCtx, t, nil)
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- ss.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		// Close stops reading and waits for in-flight calls; bound it so
		// that a stuck handler cannot keep the process alive.
		go func() { _ = ss.Close() }()
		timer := time.NewTimer(cfg.stopTimeout)
		defer timer.Stop()
		select {
		case err = <-done:
		case <-timer.C:
			cfg.logger.Warn("stdio: in-flight calls did not finish before shutdown", "waited", cfg.stopTimeout)
			return nil
		}
	}
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
