package pgstate

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one numbered schema change.
type migration struct {
	version int
	name    string
	sql     string
}

// DefaultSchema is the schema Migrate uses when none is given.
const DefaultSchema = "mcpkit"

// schemaName is what a schema name may be: it is spliced into SQL.
var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// migrationLock is the advisory lock key that serialises Migrate across
// replicas ("mcpkit" in ASCII).
const migrationLock = 0x6d63706b6974

// Beginner is what Migrate needs from a connection or pool.
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Migrate brings schema up to date: it creates the schema if needed and
// applies, in order, the embedded migrations the database has not seen.
// The SQL may name the schema as {{schema}}.
func Migrate(ctx context.Context, db Beginner, schema string) error {
	if schema == "" {
		schema = DefaultSchema
	}
	if !schemaName.MatchString(schema) {
		return fmt.Errorf("pgstate: schema name %q must match %s", schema, schemaName)
	}
	all, err := migrations()
	if err != nil {
		return err
	}
	tx, err := db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("pgstate: migrate: %w", SafeError(err))
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrationLock)); err != nil {
		return fmt.Errorf("pgstate: migrate: lock: %w", SafeError(err))
	}
	setup := fmt.Sprintf(`CREATE SCHEMA IF NOT EXISTS %[1]s;
CREATE TABLE IF NOT EXISTS %[1]s.schema_migrations (
  version int PRIMARY KEY,
  name text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`, schema)
	if _, err := tx.Exec(ctx, setup); err != nil {
		return fmt.Errorf("pgstate: migrate: create schema %s: %w", schema, SafeError(err))
	}
	rows, err := tx.Query(ctx, fmt.Sprintf("SELECT version FROM %s.schema_migrations", schema))
	if err != nil {
		return fmt.Errorf("pgstate: migrate: read applied migrations: %w", SafeError(err))
	}
	applied, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return fmt.Errorf("pgstate: migrate: read applied migrations: %w", SafeError(err))
	}
	known := map[int]bool{}
	for _, m := range all {
		known[m.version] = true
	}
	for _, v := range applied {
		if !known[v] {
			return fmt.Errorf("pgstate: the database has migration %d, which this build does not know: it was migrated by a newer version; upgrade this binary", v)
		}
	}
	for _, m := range all {
		if slices.Contains(applied, m.version) {
			continue
		}
		sql := strings.ReplaceAll(m.sql, "{{schema}}", schema)
		if _, err := tx.Exec(ctx, sql); err != nil {
			return fmt.Errorf("pgstate: migration %d (%s): %w", m.version, m.name, SafeError(err))
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf("INSERT INTO %s.schema_migrations (version, name) VALUES ($1, $2)", schema), m.version, m.name); err != nil {
			return fmt.Errorf("pgstate: record migration %d: %w", m.version, SafeError(err))
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("pgstate: migrate: commit: %w", SafeError(err))
	}
	return nil
}

// migrationName is NNN_name.sql.
var migrationName = regexp.MustCompile(`^([0-9]{3})_([a-z0-9_]+)\.sql$`)

// migrations returns the embedded migrations in version order.
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("pgstate: migration file %q is not named NNN_name.sql", e.Name())
		}
		v, _ := strconv.Atoi(m[1])
		b, err := migrationFiles.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		if i := slices.IndexFunc(out, func(o migration) bool { return o.version == v }); i >= 0 {
			return nil, errors.New("pgstate: two migrations numbered " + m[1])
		}
		out = append(out, migration{version: v, name: m[2], sql: string(b)})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	return out, nil
}
