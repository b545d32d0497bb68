// Command incidents is a complete MCP server over an embedded, deterministic
// set of 50 incidents. It is the example a team copies: five typed tools with
// policies (read, write, destructive), scopes enforced, served over stdio.
//
//	go run ./examples/incidents
//
// It logs to stderr only; stdout carries nothing but the protocol. It exits
// cleanly when stdin closes or on SIGINT/SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// version is the server version reported to clients and in audit records.
const version = "0.1.0"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "incidents:", err)
		os.Exit(1)
	}
}

// env is what a feature's setup may use.
type env struct {
	logger *slog.Logger
	store  *Store
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// serve is set by the transport feature: it serves srv until ctx ends
	// (or, on stdio, until the client closes stdin).
	serve func(ctx context.Context, srv *mcpkit.Server) error
	// auditor is set by the audit feature; the transport records the
	// requests it refuses with it.
	auditor *audit.Auditor
	// authenticate is set by the transport feature when HTTP callers
	// authenticate; the approval console accepts the same credentials.
	authenticate func(r *http.Request) (mcpkit.Identity, error)
}

// feature is one concern of the example (transport, audit, flags,
// approval): its command-line flags and the server options it contributes.
type feature struct {
	name  string
	flags func(fs *flag.FlagSet)
	// setup runs once flags are parsed. cleanup, if not nil, runs after
	// the server stops.
	setup func(ctx context.Context, e *env) (opts []mcpkit.Option, cleanup func(context.Context) error, err error)
	// started, if not nil, runs once the server exists, before it serves;
	// the function it returns, if not nil, runs when the server stops.
	started func(srv *mcpkit.Server) (stop func())
}

func features() []feature {
	return []feature{transportFeature(), auditFeature(), flagsFeature(), approvalFeature()}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("incidents", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fts := features()
	for _, f := range fts {
		if f.flags != nil {
			f.flags(fs)
		}
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	store, err := NewStore(time.Now)
	if err != nil {
		return err
	}
	e := &env{logger: slog.New(slog.NewTextHandler(stderr, nil)), store: store, stdin: stdin, stdout: stdout, stderr: stderr}
	opts := []mcpkit.Option{mcpkit.WithLogger(e.logger)}
	var cleanups []func(context.Context) error
	defer func() {
		// Cleanups (flushing audit, closing providers) get their own
		// deadline: the run context may already be cancelled.
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for i := len(cleanups) - 1; i >= 0; i-- {
			if err := cleanups[i](cctx); err != nil {
				e.logger.Error("cleanup failed", "error", err)
			}
		}
	}()
	for _, f := range fts {
		if f.setup == nil {
			continue
		}
		o, cleanup, err := f.setup(ctx, e)
		if err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
		opts = append(opts, o...)
		if cleanup != nil {
			cleanups = append(cleanups, cleanup)
		}
	}
	srv, err := newServer(store, opts...)
	if err != nil {
		return err
	}
	for _, f := range fts {
		if f.started == nil {
			continue
		}
		if stop := f.started(srv); stop != nil {
			defer stop()
		}
	}
	if e.serve == nil {
		return errors.New("no transport configured")
	}
	return e.serve(ctx, srv)
}

// newServer builds the incidents server over store.
func newServer(store *Store, opts ...mcpkit.Option) (*mcpkit.Server, error) {
	base := []mcpkit.Option{mcpkit.WithGates(mcpkit.ScopeGate())}
	srv, err := mcpkit.NewServer(&mcp.Implementation{Name: "incidents", Title: "Incidents", Version: version}, append(base, opts...)...)
	if err != nil {
		return nil, err
	}
	if err := registerTools(srv, store); err != nil {
		return nil, err
	}
	return srv, nil
}
