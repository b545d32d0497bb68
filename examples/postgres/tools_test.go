package main

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// TestToolsListAndValidCalls lists the five tools with a real client and
// calls each with valid input against the real database.
func TestToolsListAndValidCalls(t *testing.T) {
	h := newHarness(t, nil)
	lr, err := h.cs.ListTools(t.Context(), nil)
	require.NoError(t, err)
	var names []string
	for _, tool := range lr.Tools {
		names = append(names, tool.Name)
		assert.NotEmpty(t, tool.Description, tool.Name)
		require.NotNil(t, tool.Annotations, tool.Name)
		assert.True(t, tool.Annotations.ReadOnlyHint, "%s is read-only", tool.Name)
		schema := tool.InputSchema.(map[string]any)
		assert.Equal(t, "object", schema["type"], tool.Name)
		props, _ := schema["properties"].(map[string]any)
		for prop, v := range props {
			assert.NotEmpty(t, v.(map[string]any)["description"], "%s.%s has no description", tool.Name, prop)
		}
	}
	slices.Sort(names)
	assert.Equal(t, []string{"describe_table", "explain_query", "list_schemas", "list_tables", "query"}, names)

	t.Run("list_schemas", func(t *testing.T) {
		var out ListSchemasOut
		h.ok(t, "list_schemas", map[string]any{}, &out)
		byName := map[string]SchemaInfo{}
		for _, s := range out.Schemas {
			byName[s.Name] = s
		}
		require.Contains(t, byName, "shop")
		assert.Equal(t, int64(3), byName["shop"].ReadableTables)
		assert.Equal(t, "The web shop", byName["shop"].Description)
		assert.NotContains(t, byName, "secret")
		assert.NotContains(t, byName, "pg_catalog")
	})
	t.Run("list_tables", func(t *testing.T) {
		var out ListTablesOut
		h.ok(t, "list_tables", map[string]any{"schema": "shop"}, &out)
		assert.Equal(t, []TableInfo{
			{Name: "customers", Kind: "table", RowEstimate: 3, Description: "People who ordered"},
			{Name: "order_totals", Kind: "view", RowEstimate: -1},
			{Name: "orders", Kind: "table", RowEstimate: 4},
		}, out.Tables)
	})
	t.Run("describe_table", func(t *testing.T) {
		var out DescribeTableOut
		h.ok(t, "describe_table", map[string]any{"schema": "shop", "table": "orders"}, &out)
		assert.Equal(t, "table", out.Kind)
		assert.Equal(t, int64(4), out.RowEstimate)
		require.Len(t, out.Columns, 6)
		assert.Equal(t, ColumnInfo{Name: "id", Type: "integer", Default: "nextval('shop.orders_id_seq'::regclass)"}, out.Columns[0])
		assert.Equal(t, ColumnInfo{Name: "total", Type: "numeric(12,2)"}, out.Columns[2])
		assert.Equal(t, ColumnInfo{Name: "status", Type: "text", Default: "'new'::text"}, out.Columns[3])
		assert.Equal(t, ColumnInfo{Name: "meta", Type: "jsonb", Nullable: true}, out.Columns[5])
		assert.Equal(t, []string{"id"}, out.PrimaryKey)
		require.Len(t, out.ForeignKeys, 1)
		assert.Equal(t, ForeignKey{Name: "orders_customer_id_fkey", Columns: []string{"customer_id"}, ReferencesSchema: "shop",
			ReferencesTable: "customers", ReferencesColumns: []string{"id"}, Definition: "FOREIGN KEY (customer_id) REFERENCES shop.customers(id)"}, out.ForeignKeys[0])
		assert.Equal(t, []Constraint{{Name: "orders_total_check", Type: "check", Definition: "CHECK ((total >= (0)::numeric))"}}, out.Constraints)
		assert.Equal(t, []IndexInfo{
			{Name: "orders_customer_idx", Definition: "CREATE INDEX orders_customer_idx ON shop.orders USING btree (customer_id)"},
			{Name: "orders_pkey", Definition: "CREATE UNIQUE INDEX orders_pkey ON shop.orders USING btree (id)", Unique: true, Primary: true},
		}, out.Indexes)

		var cust DescribeTableOut
		h.ok(t, "describe_table", map[string]any{"schema": "shop", "table": "customers"}, &cust)
		assert.Equal(t, "Contact address", cust.Columns[2].Description)
		assert.Equal(t, []Constraint{{Name: "customers_email_key", Type: "unique", Definition: "UNIQUE (email)"}}, cust.Constraints)
	})
	t.Run("query", func(t *testing.T) {
		var out QueryOut
		h.ok(t, "query", map[string]any{"sql": `SELECT o.id, c.name, c.vip, o.total, o.placed_at, o.meta, 1.5::float8 AS f, NULL::text AS nothing
			FROM shop.orders o JOIN shop.customers c ON c.id = o.customer_id ORDER BY o.id;`}, &out)
		assert.Equal(t, []ResultColumn{{"id", "int4"}, {"name", "text"}, {"vip", "bool"}, {"total", "numeric"},
			{"placed_at", "timestamptz"}, {"meta", "jsonb"}, {"f", "float8"}, {"nothing", "text"}}, out.Columns)
		assert.Equal(t, 4, out.RowCount)
		assert.False(t, out.Truncated)
		rows, _ := json.Marshal(out.Rows)
		assert.JSONEq(t, `[
			[1, "Ada", true, "12.50", "2024-02-01 10:00:00+00", {"coupon": "SPRING"}, 1.5, null],
			[2, "Ada", true, "99.99", "2024-02-02 11:30:00+00", null, 1.5, null],
			[3, "Grace", false, "5.00", "2024-03-01 09:15:00+00", {"gift": true}, 1.5, null],
			[4, "Linus", false, "1234567890.12", "2024-03-05 17:45:00+00", null, 1.5, null]]`, string(rows))
	})
	t.Run("explain_query", func(t *testing.T) {
		var text ExplainOut
		h.ok(t, "explain_query", map[string]any{"sql": "SELECT * FROM shop.orders WHERE customer_id = 1"}, &text)
		assert.Equal(t, "text", text.Format)
		assert.Contains(t, text.PlanText, "on orders")
		var js ExplainOut
		h.ok(t, "explain_query", map[string]any{"sql": "SELECT count(*) FROM shop.orders", "format": "json"}, &js)
		plan, _ := json.Marshal(js.PlanJSON)
		assert.Contains(t, string(plan), `"Node Type":"Aggregate"`)
		assert.Empty(t, js.PlanText)
	})
	for _, r := range h.rec.all() {
		assert.Equal(t, mcpkit.OutcomeOK, r.outcome, "%s: %v", r.tool, r.err)
	}
}

// TestScopesSplitBrowsingFromQuerying checks that an identity with only
// db:read sees the catalog tools and cannot run SQL.
func TestScopesSplitBrowsingFromQuerying(t *testing.T) {
	h := newHarness(t, nil, mcpkit.WithDefaultIdentity(mcpkit.Identity{Subject: "browser", Scopes: []string{ScopeRead}}))
	lr, err := h.cs.ListTools(t.Context(), nil)
	require.NoError(t, err)
	var names []string
	for _, tool := range lr.Tools {
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	assert.Equal(t, []string{"describe_table", "list_schemas", "list_tables"}, names)
	res := h.call(t, "query", map[string]any{"sql": "SELECT 1"})
	assert.True(t, res.IsError)
	assert.Contains(t, mcpkittest.Text(res), "requires scope db:query")
	assert.Equal(t, mcpkit.OutcomeDeniedScope, h.rec.last(t).outcome)
}

// TestBadInputIsExplained checks malformed arguments get actionable
// messages and audit-visible outcomes.
func TestBadInputIsExplained(t *testing.T) {
	h := newHarness(t, nil)
	cases := []struct {
		tool    string
		args    map[string]any
		want    string
		outcome mcpkit.Outcome
	}{
		{"query", map[string]any{}, "arguments.sql: is required", mcpkit.OutcomeInvalidInput},
		{"query", map[string]any{"sql": "SELECT 1", "max_rows": 1001}, "arguments.max_rows: must be <= 1000", mcpkit.OutcomeInvalidInput},
		{"query", map[string]any{"sql": "SELECT 1", "max_rows": 0}, "arguments.max_rows: must be >= 1", mcpkit.OutcomeInvalidInput},
		{"query", map[string]any{"sql": "   -- nothing\n"}, "sql has no statement", mcpkit.OutcomeToolError},
		{"query", map[string]any{"sql": "SELEC 1"}, `refused: SELEC is not a read`, mcpkit.OutcomeToolError},
		{"query", map[string]any{"sql": "SELECT nope FROM shop.orders"}, `query failed: column "nope" does not exist (SQLSTATE 42703, at character 8)`, mcpkit.OutcomeToolError},
		{"query", map[string]any{"sql": "SELECT * FROM shop.nothing"}, `query failed: relation "shop.nothing" does not exist (SQLSTATE 42P01`, mcpkit.OutcomeToolError},
		{"query", map[string]any{"sql": "SELECT 1/0"}, `query failed: division by zero (SQLSTATE 22012)`, mcpkit.OutcomeToolError},
		{"explain_query", map[string]any{"sql": "SELECT 1", "format": "yaml"}, `arguments.format: must be one of "text", "json"`, mcpkit.OutcomeInvalidInput},
		{"explain_query", map[string]any{"sql": "SHOW search_path"}, "refused: SHOW is not a read; this tool accepts one SELECT, WITH, VALUES, TABLE statement", mcpkit.OutcomeToolError},
		{"list_tables", map[string]any{"schema": ""}, "arguments.schema: must be at least 1 character (got 0)", mcpkit.OutcomeInvalidInput},
		{"list_tables", map[string]any{"schema": "nope"}, `schema "nope" not found, or this server's database role may not use it`, mcpkit.OutcomeToolError},
		{"describe_table", map[string]any{"schema": "shop", "table": "nope"}, `table "shop"."nope" not found, or this server's database role may not read it`, mcpkit.OutcomeToolError},
		{"describe_table", map[string]any{"schema": "shop"}, "arguments.table: is required", mcpkit.OutcomeInvalidInput},
		{"describe_table", map[string]any{"schema": "shop", "table": "orders; DROP TABLE shop.orders"}, `table "shop"."orders; DROP TABLE shop.orders" not found`, mcpkit.OutcomeToolError},
	}
	before := needPG(t).fingerprint(t)
	for _, c := range cases {
		res := h.call(t, c.tool, c.args)
		assert.True(t, res.IsError, "%s %v", c.tool, c.args)
		assert.Contains(t, mcpkittest.Text(res), c.want, "%s %v", c.tool, c.args)
		assert.Equal(t, c.outcome, h.rec.last(t).outcome, "%s %v", c.tool, c.args)
	}
	assert.Equal(t, before, needPG(t).fingerprint(t))
}
