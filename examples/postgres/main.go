// Command postgres is an MCP server over a real PostgreSQL database: five
// read-only tools (list_schemas, list_tables, describe_table, query,
// explain_query) for an agent that needs to look at data, never change it.
//
//	psql -v role=mcp_reader -v password=... -v schema=shop -f setup.sql
//	DATABASE_URL=postgres://mcp_reader:...@127.0.0.1:5432/app go run ./examples/postgres
//
// Read-only is designed in at three layers, outermost last:
//
//  1. the database role (setup.sql): SELECT on chosen schemas only,
//     default_transaction_read_only, a statement_timeout and a connection
//     limit; the server refuses to start as a superuser;
//  2. every call runs in a BEGIN READ ONLY transaction with
//     SET LOCAL statement_timeout and a context deadline, and is rolled
//     back, never committed;
//  3. a statement check that answers obvious writes with a friendly message
//     before the database is asked. It is a courtesy, not a guard: the tests
//     turn it off and show that the database refuses every write anyway.
//
// The connection string comes only from $DATABASE_URL (a flag would show in
// process listings) and is never logged or put in an error. It logs to
// stderr only; stdout carries nothing but the protocol.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// version is the server version reported to clients and in audit records.
const version = "0.1.0"

// envDatabaseURL names the environment variable holding the connection
// string.
const envDatabaseURL = "DATABASE_URL"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "postgres:", err)
		os.Exit(1)
	}
}

// env is what a feature's setup may use.
type env struct {
	logger *slog.Logger
	db     *DB
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// feature is one concern of the example (transport, audit, flags,
// approval): its command-line flags and the server options it contributes.
type feature struct {
	name  string
	flags func(fs *flag.FlagSet)
	// setup runs once flags are parsed. cleanup, if not nil, runs after
	// the server stops.
	setup func(ctx context.Context, e *env) (opts []mcpkit.Option, cleanup func(context.Context) error, err error)
}

func features() []feature {
	return []feature{transportFeature(), auditFeature(), flagsFeature(), approvalFeature()}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("postgres", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := defaultConfig()
	cfg.register(fs)
	fts := features()
	for _, f := range fts {
		if f.flags != nil {
			f.flags(fs)
		}
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	db, err := Connect(ctx, getenv(envDatabaseURL), cfg, logger)
	if err != nil {
		return err
	}
	defer db.Close()
	e := &env{logger: logger, db: db, getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
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
	srv, err := newServer(db, opts...)
	if err != nil {
		return err
	}
	return serve(ctx, srv, e)
}

// newServer builds the postgres server over db.
func newServer(db *DB, opts ...mcpkit.Option) (*mcpkit.Server, error) {
	base := []mcpkit.Option{mcpkit.WithGates(mcpkit.ScopeGate())}
	srv, err := mcpkit.NewServer(&mcp.Implementation{Name: "postgres", Title: "PostgreSQL (read-only)", Version: version}, append(base, opts...)...)
	if err != nil {
		return nil, err
	}
	if err := registerTools(srv, db); err != nil {
		return nil, err
	}
	return srv, nil
}
