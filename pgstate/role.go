package pgstate

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

//go:embed role.sql
var roleSQL string

// roleName is what Grants accepts as a role: it is spliced into SQL.
var roleName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// Grants returns role.sql for schema and role: the GRANT statements that
// give a replica's role exactly the privileges the package needs at run
// time (rows of its tables; no DDL). Run it as the schema's owner after
// Migrate.
func Grants(schema, role string) (string, error) {
	if !schemaName.MatchString(schema) {
		return "", fmt.Errorf("pgstate: schema name %q must match %s", schema, schemaName)
	}
	if !roleName.MatchString(role) {
		return "", fmt.Errorf("pgstate: role name %q must match %s", role, roleName)
	}
	return strings.NewReplacer("{{schema}}", schema, "{{role}}", role).Replace(roleSQL), nil
}

// Querier is what Check needs from a connection or pool.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Check reports whether schema holds every migration of this build, with
// only the SELECT privilege role.sql grants: a replica whose role may not
// migrate calls it at start-up instead of Migrate, and stops with a clear
// message when the admin has not migrated yet.
func Check(ctx context.Context, db Querier, schema string) error {
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
	rows, err := db.Query(ctx, fmt.Sprintf("SELECT version FROM %s.schema_migrations", schema))
	if err != nil {
		return fmt.Errorf("pgstate: cannot read %s.schema_migrations (run pgstate.Migrate as the schema owner, then role.sql): %w", schema, SafeError(err))
	}
	applied, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return fmt.Errorf("pgstate: cannot read %s.schema_migrations: %w", schema, SafeError(err))
	}
	var missing []string
	for _, m := range all {
		if !slices.Contains(applied, m.version) {
			missing = append(missing, fmt.Sprintf("%03d_%s", m.version, m.name))
		}
	}
	if len(missing) > 0 {
		return errors.New("pgstate: schema " + schema + " lacks migrations " + strings.Join(missing, ", ") + ": run pgstate.Migrate as the schema owner")
	}
	for _, v := range applied {
		if !slices.ContainsFunc(all, func(m migration) bool { return m.version == v }) {
			return fmt.Errorf("pgstate: the database has migration %d, which this build does not know: it was migrated by a newer version; upgrade this binary", v)
		}
	}
	return nil
}
