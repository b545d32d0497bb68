package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The tests run against a throwaway PostgreSQL cluster made from the
// system's server binaries (Debian: apt-get install -y postgresql), started
// on first use and stopped when the test binary ends. Without the binaries
// the database tests skip, unless MCPKIT_REQUIRE_POSTGRES=1 (set it in CI),
// which makes their absence a failure.

const (
	readerRole = "mcp_reader"
	testDB     = "app"
	// envRequirePG turns "PostgreSQL is not installed" from a skip into
	// a failure.
	envRequirePG = "MCPKIT_REQUIRE_POSTGRES"
	// envPGBin points at a directory holding initdb and pg_ctl.
	envPGBin = "PG_BIN"
)

// cluster is a running throwaway PostgreSQL.
type cluster struct {
	base, data, sock string
	bin              string
	port             int
	cred             *user.User // the OS user owning the cluster when tests run as root
	// password is the reader role's password: random, so that the leak
	// tests can look for it.
	password string
	// super is a superuser pool over the unix socket (trust auth).
	super *pgxpool.Pool
}

// readerURL is the DATABASE_URL of the least-privilege role.
func (c *cluster) readerURL() string {
	return fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/%s?sslmode=disable", readerRole, c.password, c.port, testDB)
}

// superURL connects as the superuser over the unix socket.
func (c *cluster) superURL(db string) string {
	return fmt.Sprintf("host=%s port=%d user=postgres dbname=%s sslmode=disable", c.sock, c.port, db)
}

var (
	pgOnce    sync.Once
	pgCluster *cluster
	pgErr     error
	pgSkip    string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if pgCluster != nil {
		pgCluster.stop()
	}
	os.Exit(code)
}

// needPG returns the shared cluster, starting it on first use, or skips.
func needPG(t testing.TB) *cluster {
	t.Helper()
	pgOnce.Do(func() { pgCluster, pgSkip, pgErr = startCluster() })
	if pgSkip != "" {
		if os.Getenv(envRequirePG) == "1" {
			t.Fatalf("%s=1 but: %s", envRequirePG, pgSkip)
		}
		t.Skip(pgSkip)
	}
	if pgErr != nil {
		t.Fatalf("start the throwaway PostgreSQL: %v", pgErr)
	}
	return pgCluster
}

// findBin finds the directory of initdb and pg_ctl: $PG_BIN, the newest
// /usr/lib/postgresql/<version>/bin (Debian keeps them off PATH), or PATH.
func findBin() string {
	if d := os.Getenv(envPGBin); d != "" {
		return d
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(matches, func(i, j int) bool { return pgVersion(matches[i]) > pgVersion(matches[j]) })
	if len(matches) > 0 {
		return filepath.Dir(matches[0])
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			p = r
		}
		return filepath.Dir(p)
	}
	return ""
}

func pgVersion(initdb string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(filepath.Dir(initdb))), 64)
	return v
}

// startCluster returns the cluster, or a reason to skip, or an error.
func startCluster() (*cluster, string, error) {
	bin := findBin()
	for _, tool := range []string{"initdb", "pg_ctl", "psql"} {
		if _, err := os.Stat(filepath.Join(bin, tool)); bin == "" || err != nil {
			return nil, "PostgreSQL server binaries (initdb, pg_ctl, psql) not found in /usr/lib/postgresql/*/bin, $PG_BIN or PATH; install them (Debian: apt-get install -y postgresql) to run the database tests", nil
		}
	}
	c := &cluster{bin: bin}
	if os.Geteuid() == 0 {
		// initdb and postgres refuse to run as root.
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, "running as root and there is no 'postgres' OS user to run initdb as (Debian's postgresql package creates it)", nil
		}
		c.cred = u
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := c.start(ctx); err != nil {
		c.stop()
		return nil, "", err
	}
	return c, "", nil
}

func (c *cluster) start(ctx context.Context) error {
	var err error
	// A short path: the unix socket path must fit in 107 bytes.
	if c.base, err = os.MkdirTemp("", "mcpkit-pg-"); err != nil {
		return err
	}
	c.data, c.sock = filepath.Join(c.base, "data"), c.base
	if err := c.chown(c.base); err != nil {
		return err
	}
	pw := make([]byte, 12)
	_, _ = rand.Read(pw)
	c.password = "pw-" + hex.EncodeToString(pw)

	if out, err := c.cmd(ctx, "initdb", "-D", c.data, "-U", "postgres", "-A", "trust", "--auth-host=scram-sha-256",
		"-E", "UTF8", "--locale=C", "--no-sync").CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %v\n%s", err, out)
	}
	// The port is picked free and may be taken before the server binds it:
	// retry with another.
	for attempt := 0; ; attempt++ {
		c.port, err = freePort()
		if err != nil {
			return err
		}
		opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=40", c.port, c.sock)
		out, err := c.cmd(ctx, "pg_ctl", "-D", c.data, "-l", filepath.Join(c.base, "server.log"), "-w", "-t", "30", "-o", opts, "start").CombinedOutput()
		if err == nil {
			break
		}
		if attempt == 2 {
			log, _ := os.ReadFile(filepath.Join(c.base, "server.log"))
			return fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, log)
		}
	}
	if err := c.seed(ctx); err != nil {
		return err
	}
	return nil
}

// cmd runs a PostgreSQL tool, as the cluster's OS user when that is set.
func (c *cluster) cmd(ctx context.Context, tool string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, tool), args...)
	cmd.Dir = c.base
	cmd.WaitDelay = 5 * time.Second
	if c.cred != nil && tool != "psql" {
		cmd.SysProcAttr = credential(c.cred)
	}
	return cmd
}

func (c *cluster) chown(path string) error {
	if c.cred == nil {
		return nil
	}
	uid, _ := strconv.Atoi(c.cred.Uid)
	gid, _ := strconv.Atoi(c.cred.Gid)
	return os.Chown(path, uid, gid)
}

// seed creates the test database, the fixture schemas and the reader role
// (with the shipped setup.sql, run by psql exactly as an operator would).
func (c *cluster) seed(ctx context.Context) error {
	admin, err := pgx.Connect(ctx, c.superURL("postgres"))
	if err != nil {
		return err
	}
	_, err = admin.Exec(ctx, "CREATE DATABASE "+testDB)
	admin.Close(ctx)
	if err != nil {
		return err
	}
	if c.super, err = pgxpool.New(ctx, c.superURL(testDB)); err != nil {
		return err
	}
	if _, err := c.super.Exec(ctx, fixtureSQL); err != nil {
		return fmt.Errorf("fixture: %w", err)
	}
	setup, err := filepath.Abs("setup.sql")
	if err != nil {
		return err
	}
	out, err := c.psql(ctx, "-v", "role="+readerRole, "-v", "password="+c.password, "-v", "schema=shop", "-v", "connection_limit=20", "-f", setup)
	if err != nil {
		return fmt.Errorf("setup.sql: %v\n%s", err, out)
	}
	return nil
}

// psql runs psql as the superuser on the test database.
func (c *cluster) psql(ctx context.Context, args ...string) ([]byte, error) {
	base := []string{"-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", c.sock, "-p", strconv.Itoa(c.port), "-U", "postgres", "-d", testDB}
	return c.cmd(ctx, "psql", append(base, args...)...).CombinedOutput()
}

func (c *cluster) stop() {
	if c.super != nil {
		c.super.Close()
	}
	if c.data != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_ = c.cmd(ctx, "pg_ctl", "-D", c.data, "-m", "immediate", "-w", "stop").Run()
		cancel()
	}
	if c.base != "" {
		_ = os.RemoveAll(c.base)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// fixtureSQL is a small shop the reader may read, and a secret schema it
// must not see.
const fixtureSQL = `
CREATE SCHEMA shop;
COMMENT ON SCHEMA shop IS 'The web shop';
CREATE TABLE shop.customers (
  id serial PRIMARY KEY,
  name text NOT NULL,
  email text UNIQUE,
  vip boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT '2024-01-01 00:00:00+00'
);
COMMENT ON TABLE shop.customers IS 'People who ordered';
COMMENT ON COLUMN shop.customers.email IS 'Contact address';
CREATE TABLE shop.orders (
  id serial PRIMARY KEY,
  customer_id int NOT NULL REFERENCES shop.customers (id),
  total numeric(12,2) NOT NULL CHECK (total >= 0),
  status text NOT NULL DEFAULT 'new',
  placed_at timestamptz NOT NULL,
  meta jsonb
);
CREATE INDEX orders_customer_idx ON shop.orders (customer_id);
CREATE VIEW shop.order_totals AS
  SELECT customer_id, sum(total) AS total FROM shop.orders GROUP BY customer_id;
INSERT INTO shop.customers (name, email, vip) VALUES
  ('Ada', 'ada@example.com', true), ('Grace', 'grace@example.com', false), ('Linus', NULL, false);
INSERT INTO shop.orders (customer_id, total, status, placed_at, meta) VALUES
  (1, 12.50, 'paid', '2024-02-01 10:00:00+00', '{"coupon": "SPRING"}'),
  (1, 99.99, 'new', '2024-02-02 11:30:00+00', NULL),
  (2, 5.00, 'paid', '2024-03-01 09:15:00+00', '{"gift": true}'),
  (3, 1234567890.12, 'refunded', '2024-03-05 17:45:00+00', NULL);
ANALYZE shop.customers;
ANALYZE shop.orders;
CREATE SCHEMA secret;
CREATE TABLE secret.api_keys (id int PRIMARY KEY, key text NOT NULL);
INSERT INTO secret.api_keys VALUES (1, 'sk-live-TOPSECRET');
`

// fingerprint summarises everything a write attempt could change, read as
// the superuser.
func (c *cluster) fingerprint(t testing.TB) string {
	t.Helper()
	var fp string
	err := c.super.QueryRow(context.Background(), `
SELECT concat_ws('|',
  (SELECT md5(string_agg(c::text, ',' ORDER BY id)) FROM shop.customers c),
  (SELECT md5(string_agg(o::text, ',' ORDER BY id)) FROM shop.orders o),
  (SELECT md5(string_agg(k::text, ',' ORDER BY id)) FROM secret.api_keys k),
  (SELECT string_agg(n.nspname || '.' || c.relname, ',' ORDER BY 1) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')),
  (SELECT last_value FROM shop.orders_id_seq),
  (SELECT string_agg(rolname || ':' || rolsuper || ':' || rolconnlimit, ',' ORDER BY 1) FROM pg_roles WHERE rolname !~ '^pg_'),
  (SELECT string_agg(array_to_string(setconfig, ';'), ',' ORDER BY 1) FROM pg_db_role_setting))`).Scan(&fp)
	if err != nil {
		t.Fatalf("fingerprint: %v", err)
	}
	return fp
}
