package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// callGrace is how much longer than the statement timeout a call's context
// lives: long enough for the database's own cancellation (which names the
// cause) to arrive first, short enough that a hung network still ends the
// call.
const callGrace = 2 * time.Second

// rollbackTimeout bounds the ROLLBACK that ends every call.
const rollbackTimeout = 5 * time.Second

// DB is the connection pool and the read-only way every tool uses it.
type DB struct {
	pool *pgxpool.Pool
	cfg  config
	// begin starts every call's transaction: read-only, with the
	// statement timeout, built once.
	begin string
}

// Connect opens a pool to url (the value of $DATABASE_URL), checks that it
// answers and that the role is not privileged, and logs where it connected
// without the password. No error it returns contains the connection string
// or the password.
func Connect(ctx context.Context, url string, cfg config, logger *slog.Logger) (*DB, error) {
	if strings.TrimSpace(url) == "" {
		return nil, errors.New("$" + envDatabaseURL + " is not set: set it to the read-only role's connection string, for example postgres://mcp_reader@127.0.0.1:5432/app (create the role with setup.sql)")
	}
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx redacts passwords in parse errors only on a best-effort
		// basis, so its message is not repeated.
		return nil, errors.New("$" + envDatabaseURL + " is not a valid PostgreSQL connection string (URL or key=value form); the parser's message is withheld because it may quote the password")
	}
	cc := pc.ConnConfig
	scrub := newScrubber(url, cc.Password)
	target := fmt.Sprintf("%s@%s:%d/%s", cc.User, cc.Host, cc.Port, cc.Database)

	pc.MaxConns = int32(cfg.maxConns)
	cc.ConnectTimeout = cfg.connectTimeout
	// The extended protocol, without prepared-statement or description
	// caches: one statement per Parse message (the server refuses
	// "SELECT 1; DELETE ..."), one round trip, text results, and no named
	// statements left on pooled connections by arbitrary SQL.
	cc.DefaultQueryExecMode = pgx.QueryExecModeExec
	cc.StatementCacheCapacity = 0
	cc.DescriptionCacheCapacity = 0
	if cc.RuntimeParams == nil {
		cc.RuntimeParams = map[string]string{}
	}
	if cc.RuntimeParams["application_name"] == "" {
		cc.RuntimeParams["application_name"] = "mcpkit-postgres"
	}
	// Belt and braces with the role setting and BEGIN READ ONLY: a session
	// that somehow ran outside our transaction would still be read-only.
	cc.RuntimeParams["default_transaction_read_only"] = "on"

	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", target, scrub.err(err))
	}
	d := &DB{pool: pool, cfg: cfg, begin: beginQuery(cfg.statementTimeout)}
	pctx, cancel := context.WithTimeout(ctx, cfg.connectTimeout)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("database %s is not reachable: %w", target, scrub.err(err))
	}
	if err := d.checkRole(pctx, logger); err != nil {
		pool.Close()
		return nil, fmt.Errorf("database %s: %w", target, scrub.err(err))
	}
	logger.Info("connected to PostgreSQL", "target", target, "max_conns", cfg.maxConns, "statement_timeout", cfg.statementTimeout.String())
	return d, nil
}

// Close closes the pool.
func (d *DB) Close() { d.pool.Close() }

// checkRole refuses a privileged role and warns about a role that could
// write: the read-only transaction would still hold, but the least-privilege
// role is one of the three layers and its absence should be visible.
func (d *DB) checkRole(ctx context.Context, logger *slog.Logger) error {
	var (
		role           string
		super, bypass  bool
		writable       int64
		dangerousRoles []string
	)
	err := d.read(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return tx.QueryRow(ctx, checkRoleSQL).Scan(&role, &super, &bypass, &writable, &dangerousRoles)
	})
	if err != nil {
		return fmt.Errorf("check the role: %w", err)
	}
	if super || bypass {
		return fmt.Errorf("refusing to serve as role %q: it is a superuser or bypasses row-level security; connect as the least-privilege role that setup.sql creates", role)
	}
	if writable > 0 {
		logger.Warn("the database role can write to some tables; every call still runs read-only, but grant it SELECT only (setup.sql)", "role", role, "writable_tables", writable)
	}
	if len(dangerousRoles) > 0 {
		logger.Warn("the database role is a member of privileged built-in roles; revoke them (setup.sql checks this)", "role", role, "member_of", strings.Join(dangerousRoles, ","))
	}
	return nil
}

const checkRoleSQL = `
SELECT r.rolname::text, r.rolsuper, r.rolbypassrls,
  (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p') AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%'
       AND has_schema_privilege(n.oid, 'USAGE')
       AND has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')),
  ARRAY(SELECT b.rolname::text FROM pg_roles b
     WHERE b.rolname IN ('pg_write_all_data', 'pg_write_server_files', 'pg_execute_server_program', 'pg_signal_backend', 'pg_read_server_files')
       AND pg_has_role(current_user, b.oid, 'MEMBER'))
FROM pg_roles r WHERE r.rolname = current_user`

// read runs fn in a read-only transaction with the call's statement
// timeout, and rolls it back: nothing a call does (a SET, a cursor) outlives
// it, and nothing is ever committed.
func (d *DB) read(ctx context.Context, fn func(ctx context.Context, tx pgx.Tx) error) error {
	return d.run(ctx, fn, false)
}

// readUntrusted is read for SQL the caller wrote. A few kinds of session
// state survive a rollback: session-level advisory locks
// (pg_advisory_lock, which could block another application's migrations
// for as long as the pooled connection lives) and prepared statements.
// They are dropped after the rollback, at the cost of one round trip; if
// that fails the connection is closed rather than pooled.
func (d *DB) readUntrusted(ctx context.Context, fn func(ctx context.Context, tx pgx.Tx) error) error {
	return d.run(ctx, fn, true)
}

const resetSessionSQL = "SELECT pg_advisory_unlock_all(); DEALLOCATE ALL"

func (d *DB) run(ctx context.Context, fn func(ctx context.Context, tx pgx.Tx) error, reset bool) error {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.statementTimeout+callGrace)
	defer cancel()
	// One round trip for both: BeginQuery is sent with the simple protocol
	// and is entirely ours (the timeout is an integer from a validated
	// duration). SET LOCAL lasts until the rollback below.
	tx, err := d.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly, BeginQuery: d.begin})
	if err != nil {
		return err
	}
	defer func() {
		// The call's context may be done; the rollback gets its own. Should
		// it fail, the pool discards the connection rather than reuse one
		// left inside a transaction.
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
		defer rcancel()
		_ = tx.Rollback(rctx)
		if reset {
			// No arguments: the simple protocol, which runs both.
			if _, err := tx.Conn().Exec(rctx, resetSessionSQL); err != nil {
				_ = tx.Conn().Close(rctx)
			}
		}
	}()
	return fn(ctx, tx)
}

// beginQuery is BEGIN READ ONLY plus SET LOCAL statement_timeout in
// milliseconds.
func beginQuery(timeout time.Duration) string {
	return "BEGIN READ ONLY; SET LOCAL statement_timeout = " + strconv.FormatInt(timeout.Milliseconds(), 10)
}

// scrubber removes known secrets from error text.
type scrubber struct{ secrets []string }

func newScrubber(secrets ...string) scrubber {
	var s scrubber
	for _, v := range secrets {
		if v != "" {
			s.secrets = append(s.secrets, v)
		}
	}
	return s
}

// err returns err's message with every secret masked. The chain is not
// kept: a cause could format the secret differently.
func (s scrubber) err(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	for _, v := range s.secrets {
		msg = strings.ReplaceAll(msg, v, "xxxxx")
	}
	return errors.New(msg)
}
