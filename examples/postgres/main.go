// Command postgres is an MCP server over a real PostgreSQL database: five
// read-only tools (list_schemas, list_tables, describe_table, query,
// explain_query) for an agent that needs to look at data, never change it,
// and the readable tables' schemas as resources (postgres://tables and
// postgres://schema/{schema}/{table}).
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
// Transport (stdio, or HTTP with -tokens/-jwks), audit (-audit, OTLP via
// serve/otlp), flags (-flags) and approval (-approver, -console) come from
// the serve package, with the same flags as examples/incidents; see
// RUNBOOK.md. The database flags are
// -statement-timeout, -max-result-bytes, -max-conns and -connect-timeout.
//
// The connection string comes only from $DATABASE_URL (a flag would show in
// process listings) and is never logged or put in an error. It logs to
// stderr only; stdout carries nothing but the protocol.
package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/serve"
	"github.com/mcpkit-go/mcpkit/serve/otlp"
)

// version is the server version reported to clients and in audit records,
// and the version the client configurations in clients/ pin.
const version = "0.1.0"

// envDatabaseURL names the environment variable holding the connection
// string.
const envDatabaseURL = "DATABASE_URL"

func main() { serve.Main(newApp(os.Getenv).serverConfig()) }

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	a := newApp(getenv)
	return serve.Run(ctx, a.serverConfig(), args, serve.IO{Stdin: stdin, Stdout: stdout, Stderr: stderr, Getenv: getenv})
}

// app is one run of the server: its database settings, resolved once from
// the flags, and the pool opened from them.
type app struct {
	cfg    config
	getenv func(string) string
	db     *DB
}

func newApp(getenv func(string) string) *app { return &app{cfg: defaultConfig(), getenv: getenv} }

// serverConfig is everything serve needs to know about this server.
func (a *app) serverConfig() serve.Config {
	return serve.Config{
		Name:      "postgres",
		Title:     "PostgreSQL (read-only)",
		Version:   version,
		Scopes:    AllScopes,
		AuditFile: "postgres-audit.jsonl",
		// POSTGRES_MCP_APPROVAL_KEYS, POSTGRES_MCP_APPROVER_TOKENS.
		EnvPrefix: "POSTGRES_MCP",
		Telemetry: otlp.FromEnv,
		Flags:     a.cfg.register,
		Check:     a.cfg.validate,
		Prepare:   a.connect,
		Tools:     func(srv *mcpkit.Server) error { return register(srv, a.db) },
	}
}

// connect opens the pool before anything else is set up: a wrong
// DATABASE_URL or a privileged role stops the server before it opens its
// audit file or binds a port.
func (a *app) connect(ctx context.Context, logger *slog.Logger) (func(), error) {
	db, err := Connect(ctx, a.getenv(envDatabaseURL), a.cfg, logger)
	if err != nil {
		return nil, err
	}
	a.db = db
	return db.Close, nil
}

// register adds everything the server offers over db: the tools and the
// table schema resources.
func register(srv *mcpkit.Server, db *DB) error {
	return errors.Join(registerTools(srv, db), registerResources(srv, db))
}

// newServer builds the postgres server over db, for tests that need the
// tools and resources without serve's features.
func newServer(db *DB, opts ...mcpkit.Option) (*mcpkit.Server, error) {
	srv, err := mcpkit.NewServer(&mcp.Implementation{Name: "postgres", Title: "PostgreSQL (read-only)", Version: version}, opts...)
	if err != nil {
		return nil, err
	}
	if err := register(srv, db); err != nil {
		return nil, err
	}
	return srv, nil
}
