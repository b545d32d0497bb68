package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mcpkit-go/mcpkit/internal/pgtest"
)

// The tests run against a throwaway PostgreSQL cluster made from the
// system's server binaries (internal/pgtest), started on first use and
// removed when the test binary ends. Without the binaries the database
// tests skip, unless MCPKIT_REQUIRE_POSTGRES=1 (set it in CI).

const (
	readerRole = "mcp_reader"
	testDB     = "app"
)

// cluster is the running throwaway PostgreSQL, seeded for these tests.
type cluster struct {
	*pgtest.Cluster
	// password is the reader role's password: random, so that the leak
	// tests can look for it.
	password string
	// super is a superuser pool over the unix socket (trust auth).
	super *pgxpool.Pool
}

// readerURL is the DATABASE_URL of the least-privilege role.
func (c *cluster) readerURL() string { return c.URL(readerRole, c.password, testDB) }

// superURL connects as the superuser over the unix socket.
func (c *cluster) superURL(db string) string { return c.SuperURL(db) }

var (
	pgShared  pgtest.Shared
	seedOnce  sync.Once
	pgCluster *cluster
	seedErr   error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if pgCluster != nil && pgCluster.super != nil {
		pgCluster.super.Close()
	}
	pgShared.Remove()
	os.Exit(code)
}

// needPG returns the shared seeded cluster, starting it on first use, or
// skips.
func needPG(t testing.TB) *cluster {
	t.Helper()
	base := pgShared.Get(t)
	seedOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		pgCluster = &cluster{Cluster: base, password: pgtest.Password()}
		seedErr = pgCluster.seed(ctx)
	})
	if seedErr != nil {
		t.Fatalf("seed the throwaway PostgreSQL: %v", seedErr)
	}
	return pgCluster
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
	out, err := c.Psql(ctx, testDB, "-v", "role="+readerRole, "-v", "password="+c.password, "-v", "schema=shop", "-v", "connection_limit=20", "-f", setup)
	if err != nil {
		return fmt.Errorf("setup.sql: %v\n%s", err, out)
	}
	return nil
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
