package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// TableRef is the variables of the postgres://schema/{schema}/{table}
// template: the same names, with the same limits, as describe_table takes.
type TableRef struct {
	Schema string `json:"schema" jsonschema:"description=Schema of the table (from postgres://tables or list_schemas),minLength=1,maxLength=63"`
	Table  string `json:"table" jsonschema:"description=Table or view name; exact and case-sensitive with no quotes,minLength=1,maxLength=63"`
}

// TableEntry is one readable table in the postgres://tables resource.
type TableEntry struct {
	Schema string `json:"schema"`
	Table  string `json:"table"`
	Kind   string `json:"kind"`
	URI    string `json:"uri"`
}

const (
	tableTemplate = "postgres://schema/{schema}/{table}"
	tablesURI     = "postgres://tables"
	jsonMIME      = "application/json"
)

// tableURI is the resource URI of schema.table, each name percent-encoded
// as one path segment.
func tableURI(schema, table string) string {
	return "postgres://schema/" + url.PathEscape(schema) + "/" + url.PathEscape(table)
}

// registerResources adds the table schemas as resources: an index of
// every table the role may read, and each table's shape by URI. They ask
// the database on every read, through the same privilege filters as the
// catalog tools, so a schema the role cannot use (secret, in the tests) is
// neither in the index nor readable by URI; they need db:read, as the
// catalog tools do.
func registerResources(s *mcpkit.Server, db *DB) error {
	browse := mcpkit.Policy{Risk: mcpkit.ReadOnly, Scopes: []string{ScopeRead}}
	return errors.Join(
		mcpkit.AddResource(s, mcpkit.Resource{
			URI:         tablesURI,
			Name:        "tables",
			Title:       "Readable tables",
			Description: "Every table and view this server may read, schema by schema, each with the URI of its schema resource.",
			MIMEType:    jsonMIME,
			Policy:      browse,
		}, func(ctx context.Context) ([]*mcp.ResourceContents, error) {
			schemas, err := db.ListSchemas(ctx)
			if err != nil {
				return nil, err
			}
			out := []TableEntry{}
			for _, sc := range schemas.Schemas {
				tables, err := db.ListTables(ctx, sc.Name)
				if err != nil {
					return nil, err
				}
				for _, t := range tables.Tables {
					out = append(out, TableEntry{Schema: sc.Name, Table: t.Name, Kind: t.Kind, URI: tableURI(sc.Name, t.Name)})
				}
			}
			return jsonContents(out)
		}),
		mcpkit.AddResourceTemplate(s, mcpkit.ResourceTemplate{
			URITemplate: tableTemplate,
			Name:        "table_schema",
			Title:       "Table schema",
			Description: "The shape of one table or view as JSON: columns with types, nullability and defaults; primary key; foreign keys; constraints; indexes; row estimate. The same answer as describe_table.",
			MIMEType:    jsonMIME,
			Policy:      browse,
		}, func(ctx context.Context, in TableRef) ([]*mcp.ResourceContents, error) {
			out, err := db.DescribeTable(ctx, in.Schema, in.Table)
			if err != nil {
				return nil, err
			}
			return jsonContents(out)
		}),
	)
}

// jsonContents is v as the one JSON text of a resource; mcpkit fills in
// the URI and MIME type.
func jsonContents(v any) ([]*mcp.ResourceContents, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return []*mcp.ResourceContents{{Text: string(b)}}, nil
}
