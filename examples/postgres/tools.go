package main

import (
	"context"
	"errors"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// Scopes the tools require. Browsing the catalog and running SQL are
// separate grants: an agent may be allowed to see the shape of the data
// without reading it.
const (
	ScopeRead  = "db:read"
	ScopeQuery = "db:query"
)

// AllScopes is every scope the server's policies name.
var AllScopes = []string{ScopeRead, ScopeQuery}

// ListSchemasIn is the input of list_schemas: it takes no arguments.
type ListSchemasIn struct{}

// SchemaInfo is one schema the role may use.
type SchemaInfo struct {
	Name           string `json:"name" jsonschema:"description=Schema name"`
	Owner          string `json:"owner" jsonschema:"description=Role that owns the schema"`
	Description    string `json:"description,omitempty" jsonschema:"description=The schema's comment"`
	ReadableTables int64  `json:"readable_tables" jsonschema:"description=Tables and views in it that this server may read"`
}

// ListSchemasOut is the output of list_schemas.
type ListSchemasOut struct {
	Schemas []SchemaInfo `json:"schemas" jsonschema:"description=Schemas this server's database role may use"`
}

// ListTablesIn is the input of list_tables.
type ListTablesIn struct {
	Schema string `json:"schema" jsonschema:"description=Schema to list; one of the names list_schemas returns,minLength=1,maxLength=63"`
}

// TableInfo is one readable table or view.
type TableInfo struct {
	Name        string `json:"name" jsonschema:"description=Table name"`
	Kind        string `json:"kind" jsonschema:"description=table or partitioned table or view or materialized view or foreign table"`
	RowEstimate int64  `json:"row_estimate" jsonschema:"description=The planner's row estimate; -1 if the table was never analyzed"`
	Description string `json:"description,omitempty" jsonschema:"description=The table's comment"`
}

// ListTablesOut is the output of list_tables.
type ListTablesOut struct {
	Schema string      `json:"schema" jsonschema:"description=The schema listed"`
	Tables []TableInfo `json:"tables" jsonschema:"description=Tables and views this server may read"`
}

// DescribeTableIn is the input of describe_table.
type DescribeTableIn struct {
	Schema string `json:"schema" jsonschema:"description=Schema of the table (from list_schemas),minLength=1,maxLength=63"`
	Table  string `json:"table" jsonschema:"description=Table or view name (from list_tables); exact and case-sensitive with no quotes,minLength=1,maxLength=63"`
}

// ColumnInfo is one column.
type ColumnInfo struct {
	Name        string `json:"name" jsonschema:"description=Column name"`
	Type        string `json:"type" jsonschema:"description=SQL type as PostgreSQL prints it"`
	Nullable    bool   `json:"nullable" jsonschema:"description=Whether the column accepts NULL"`
	Default     string `json:"default,omitempty" jsonschema:"description=Default expression"`
	Identity    string `json:"identity,omitempty" jsonschema:"description=always or by default for an identity column"`
	Generated   bool   `json:"generated,omitempty" jsonschema:"description=A stored generated column"`
	Description string `json:"description,omitempty" jsonschema:"description=The column's comment"`
}

// ForeignKey is one foreign key of a table.
type ForeignKey struct {
	Name              string   `json:"name" jsonschema:"description=Constraint name"`
	Columns           []string `json:"columns" jsonschema:"description=Referencing columns in order"`
	ReferencesSchema  string   `json:"references_schema" jsonschema:"description=Schema of the referenced table"`
	ReferencesTable   string   `json:"references_table" jsonschema:"description=Referenced table"`
	ReferencesColumns []string `json:"references_columns" jsonschema:"description=Referenced columns in order"`
	Definition        string   `json:"definition" jsonschema:"description=The constraint as SQL"`
}

// Constraint is a unique, check or exclusion constraint.
type Constraint struct {
	Name       string `json:"name" jsonschema:"description=Constraint name"`
	Type       string `json:"type" jsonschema:"description=unique or check or exclusion"`
	Definition string `json:"definition" jsonschema:"description=The constraint as SQL"`
}

// IndexInfo is one index.
type IndexInfo struct {
	Name       string `json:"name" jsonschema:"description=Index name"`
	Definition string `json:"definition" jsonschema:"description=CREATE INDEX statement"`
	Unique     bool   `json:"unique" jsonschema:"description=Whether the index is unique"`
	Primary    bool   `json:"primary" jsonschema:"description=Whether it backs the primary key"`
}

// DescribeTableOut is the output of describe_table.
type DescribeTableOut struct {
	Schema      string       `json:"schema" jsonschema:"description=Schema"`
	Table       string       `json:"table" jsonschema:"description=Table"`
	Kind        string       `json:"kind" jsonschema:"description=table or partitioned table or view or materialized view or foreign table"`
	RowEstimate int64        `json:"row_estimate" jsonschema:"description=The planner's row estimate; -1 if the table was never analyzed"`
	Description string       `json:"description,omitempty" jsonschema:"description=The table's comment"`
	Columns     []ColumnInfo `json:"columns" jsonschema:"description=Readable columns in order"`
	PrimaryKey  []string     `json:"primary_key" jsonschema:"description=Primary key columns in order; empty if none"`
	ForeignKeys []ForeignKey `json:"foreign_keys" jsonschema:"description=Foreign keys from this table"`
	Constraints []Constraint `json:"constraints" jsonschema:"description=Unique and check and exclusion constraints"`
	Indexes     []IndexInfo  `json:"indexes" jsonschema:"description=Indexes on the table"`
}

// QueryIn is the input of query.
type QueryIn struct {
	SQL     string `json:"sql" jsonschema:"description=Exactly one read-only SQL statement (SELECT or WITH or VALUES or TABLE or SHOW or EXPLAIN); schema-qualify table names,minLength=1,maxLength=100000"`
	MaxRows int    `json:"max_rows,omitempty" jsonschema:"description=Return at most this many rows; more are discarded and the result is flagged truncated. Prefer LIMIT in the SQL,minimum=1,maximum=1000,default=100"`
}

// ResultColumn describes one column of a query result.
type ResultColumn struct {
	Name string `json:"name" jsonschema:"description=Column name"`
	Type string `json:"type" jsonschema:"description=PostgreSQL type name"`
}

// QueryOut is the output of query.
type QueryOut struct {
	Columns         []ResultColumn `json:"columns" jsonschema:"description=Result columns in order"`
	Rows            []Row          `json:"rows" jsonschema:"description=Result rows; each is an array of values in column order"`
	RowCount        int            `json:"row_count" jsonschema:"description=Number of rows returned"`
	Truncated       bool           `json:"truncated" jsonschema:"description=True if the statement produced more rows than were returned"`
	TruncatedReason string         `json:"truncated_reason,omitempty" jsonschema:"description=max_rows or max_bytes: the limit that cut the result short,enum=max_rows,enum=max_bytes"`
}

// ExplainIn is the input of explain_query.
type ExplainIn struct {
	SQL    string `json:"sql" jsonschema:"description=Exactly one SQL statement to plan (SELECT or WITH or VALUES or TABLE); it is planned and not run,minLength=1,maxLength=100000"`
	Format string `json:"format,omitempty" jsonschema:"description=Plan format: text (as psql shows it) or json (machine-readable with estimates per node),enum=text,enum=json,default=text"`
}

// ExplainOut is the output of explain_query.
type ExplainOut struct {
	Format   string `json:"format" jsonschema:"description=text or json"`
	PlanText string `json:"plan_text,omitempty" jsonschema:"description=The plan as text (format text)"`
	PlanJSON any    `json:"plan_json,omitempty" jsonschema:"description=The plan as PostgreSQL's JSON (format json)"`
}

// registerTools adds the five database tools to s. Every one is read-only;
// the database enforces that, the policy documents it.
func registerTools(s *mcpkit.Server, db *DB) error {
	browse := mcpkit.Policy{Risk: mcpkit.ReadOnly, Scopes: []string{ScopeRead}}
	query := mcpkit.Policy{Risk: mcpkit.ReadOnly, Scopes: []string{ScopeQuery}}
	return errors.Join(
		mcpkit.AddTool(s, mcpkit.Tool{
			Name:        "list_schemas",
			Title:       "List schemas",
			Description: "List the database schemas this server may read, with how many readable tables each has. Start here, then call list_tables.",
			Policy:      browse,
		}, func(ctx context.Context, _ ListSchemasIn) (ListSchemasOut, error) {
			return db.ListSchemas(ctx)
		}),
		mcpkit.AddTool(s, mcpkit.Tool{
			Name:        "list_tables",
			Title:       "List tables",
			Description: "List the tables and views in one schema that this server may read, with the planner's row estimate for each.",
			Policy:      browse,
		}, func(ctx context.Context, in ListTablesIn) (ListTablesOut, error) {
			return db.ListTables(ctx, in.Schema)
		}),
		mcpkit.AddTool(s, mcpkit.Tool{
			Name:        "describe_table",
			Title:       "Describe table",
			Description: "Describe one table or view: columns with types, nullability and defaults; primary key; foreign keys; unique and check constraints; indexes; and the row estimate. Use it before writing a query.",
			Policy:      browse,
		}, func(ctx context.Context, in DescribeTableIn) (DescribeTableOut, error) {
			return db.DescribeTable(ctx, in.Schema, in.Table)
		}),
		mcpkit.AddTool(s, mcpkit.Tool{
			Name:        "query",
			Title:       "Run a read-only query",
			Description: "Run one read-only SQL statement and return its columns and rows as JSON. The database refuses writes, and the statement is cancelled at the server's timeout. At most max_rows rows and a fixed number of bytes are returned; truncated says when more existed, so add WHERE, LIMIT or aggregates to the SQL.",
			Policy:      query,
		}, func(ctx context.Context, in QueryIn) (QueryOut, error) {
			return db.Query(ctx, in.SQL, in.MaxRows)
		}),
		mcpkit.AddTool(s, mcpkit.Tool{
			Name:        "explain_query",
			Title:       "Explain a query",
			Description: "Show PostgreSQL's plan for one SQL statement without running it (EXPLAIN without ANALYZE): the scans, joins, indexes used and estimated rows and cost. Use it to check that a query is cheap before running it.",
			Policy:      query,
		}, func(ctx context.Context, in ExplainIn) (ExplainOut, error) {
			return db.Explain(ctx, in.SQL, in.Format)
		}),
	)
}
