package main

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// The catalog queries take schema and table names as bound parameters
// ($1, $2), never spliced into the SQL, and show only what the role may
// use: PostgreSQL's catalogs list every table to everyone, so the privilege
// filters are what keeps an agent from being pointed at tables it cannot
// read. They are a courtesy too: the data itself is guarded by the role.

// schemaFilter excludes the system schemas and temporary schemas.
const schemaFilter = `n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%'
  AND has_schema_privilege(n.oid, 'USAGE')`

const tableFilter = `c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND (has_table_privilege(c.oid, 'SELECT') OR has_any_column_privilege(c.oid, 'SELECT'))`

const listSchemasSQL = `
SELECT n.nspname::text, pg_get_userbyid(n.nspowner)::text, coalesce(obj_description(n.oid, 'pg_namespace'), ''),
  (SELECT count(*) FROM pg_class c WHERE c.relnamespace = n.oid AND ` + tableFilter + `)
FROM pg_namespace n
WHERE ` + schemaFilter + `
ORDER BY 1`

const schemaUsableSQL = `SELECT EXISTS (SELECT 1 FROM pg_namespace n WHERE n.nspname = $1 AND ` + schemaFilter + `)`

const listTablesSQL = `
SELECT c.relname::text, c.relkind::text, c.reltuples::bigint, coalesce(obj_description(c.oid, 'pg_class'), '')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND ` + schemaFilter + ` AND ` + tableFilter + `
ORDER BY 1`

// targetSQL finds the table $1.$2 if the role may read it.
const targetSQL = `
SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = $2 AND ` + schemaFilter + ` AND ` + tableFilter

const describeTableSQL = `
SELECT c.relkind::text, c.reltuples::bigint, coalesce(obj_description(c.oid, 'pg_class'), '')
FROM pg_class c WHERE c.oid = (` + targetSQL + `)`

const describeColumnsSQL = `
SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
  coalesce(pg_get_expr(d.adbin, d.adrelid), ''), a.attidentity::text, a.attgenerated::text,
  coalesce(col_description(a.attrelid, a.attnum), '')
FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = (` + targetSQL + `) AND a.attnum > 0 AND NOT a.attisdropped
  AND has_column_privilege(a.attrelid, a.attnum, 'SELECT')
ORDER BY a.attnum`

const describeConstraintsSQL = `
SELECT con.conname::text, con.contype::text,
  ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
        JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i),
  coalesce(fn.nspname::text, ''), coalesce(fc.relname::text, ''),
  ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
        JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i),
  pg_get_constraintdef(con.oid)
FROM pg_constraint con
LEFT JOIN pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
WHERE con.conrelid = (` + targetSQL + `) AND con.contype IN ('p', 'f', 'u', 'c', 'x')
ORDER BY con.contype DESC, con.conname`

const describeIndexesSQL = `
SELECT i.relname::text, pg_get_indexdef(x.indexrelid), x.indisunique, x.indisprimary
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
WHERE x.indrelid = (` + targetSQL + `)
ORDER BY 1`

var relkinds = map[string]string{
	"r": "table", "p": "partitioned table", "v": "view", "m": "materialized view", "f": "foreign table",
}

// ListSchemas returns the schemas the role may use.
func (d *DB) ListSchemas(ctx context.Context) (ListSchemasOut, error) {
	out := ListSchemasOut{Schemas: []SchemaInfo{}}
	err := d.read(ctx, func(ctx context.Context, tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, listSchemasSQL)
		var s SchemaInfo
		_, err := pgx.ForEachRow(rows, []any{&s.Name, &s.Owner, &s.Description, &s.ReadableTables}, func() error {
			out.Schemas = append(out.Schemas, s)
			return nil
		})
		return err
	})
	return out, classify(err, d.cfg.statementTimeout)
}

// ListTables returns the tables and views of schema the role may read.
func (d *DB) ListTables(ctx context.Context, schema string) (ListTablesOut, error) {
	out := ListTablesOut{Schema: schema, Tables: []TableInfo{}}
	err := d.read(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var ok bool
		if err := tx.QueryRow(ctx, schemaUsableSQL, schema).Scan(&ok); err != nil {
			return err
		}
		if !ok {
			return mcpkit.PublicError("schema %q not found, or this server's database role may not use it; list_schemas shows the schemas it can read", schema)
		}
		rows, _ := tx.Query(ctx, listTablesSQL, schema)
		var t TableInfo
		_, err := pgx.ForEachRow(rows, []any{&t.Name, &t.Kind, &t.RowEstimate, &t.Description}, func() error {
			t.Kind = relkinds[t.Kind]
			out.Tables = append(out.Tables, t)
			return nil
		})
		return err
	})
	return out, classify(err, d.cfg.statementTimeout)
}

// DescribeTable returns the shape of schema.table, if the role may read it.
func (d *DB) DescribeTable(ctx context.Context, schema, table string) (DescribeTableOut, error) {
	out := DescribeTableOut{Schema: schema, Table: table, Columns: []ColumnInfo{}, PrimaryKey: []string{},
		ForeignKeys: []ForeignKey{}, Constraints: []Constraint{}, Indexes: []IndexInfo{}}
	err := d.read(ctx, func(ctx context.Context, tx pgx.Tx) error {
		err := tx.QueryRow(ctx, describeTableSQL, schema, table).Scan(&out.Kind, &out.RowEstimate, &out.Description)
		if errors.Is(err, pgx.ErrNoRows) {
			return mcpkit.PublicError("table %s not found, or this server's database role may not read it; list_tables shows the tables it can read", pgx.Identifier{schema, table}.Sanitize())
		}
		if err != nil {
			return err
		}
		out.Kind = relkinds[out.Kind]
		rows, _ := tx.Query(ctx, describeColumnsSQL, schema, table)
		var c ColumnInfo
		var identity, generated string
		if _, err := pgx.ForEachRow(rows, []any{&c.Name, &c.Type, &c.Nullable, &c.Default, &identity, &generated, &c.Description}, func() error {
			c.Identity = map[string]string{"a": "always", "d": "by default"}[identity]
			c.Generated = generated == "s"
			out.Columns = append(out.Columns, c)
			return nil
		}); err != nil {
			return err
		}
		rows, _ = tx.Query(ctx, describeConstraintsSQL, schema, table)
		var (
			name, kind, refSchema, refTable, def string
			cols, refCols                        []string
		)
		if _, err := pgx.ForEachRow(rows, []any{&name, &kind, &cols, &refSchema, &refTable, &refCols, &def}, func() error {
			switch kind {
			case "p":
				out.PrimaryKey = cols
			case "f":
				out.ForeignKeys = append(out.ForeignKeys, ForeignKey{Name: name, Columns: cols, ReferencesSchema: refSchema, ReferencesTable: refTable, ReferencesColumns: refCols, Definition: def})
			default:
				k := map[string]string{"u": "unique", "c": "check", "x": "exclusion"}[kind]
				out.Constraints = append(out.Constraints, Constraint{Name: name, Type: k, Definition: def})
			}
			return nil
		}); err != nil {
			return err
		}
		rows, _ = tx.Query(ctx, describeIndexesSQL, schema, table)
		var ix IndexInfo
		_, err = pgx.ForEachRow(rows, []any{&ix.Name, &ix.Definition, &ix.Unique, &ix.Primary}, func() error {
			out.Indexes = append(out.Indexes, ix)
			return nil
		})
		return err
	})
	if err != nil {
		return DescribeTableOut{}, classify(err, d.cfg.statementTimeout)
	}
	return out, nil
}
