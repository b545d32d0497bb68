package main

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
	"github.com/mcpkit-go/mcpkit/transport"
)

const benchSQL = "SELECT o.id, c.name, o.total, o.placed_at, o.meta FROM shop.orders o JOIN shop.customers c ON c.id = o.customer_id ORDER BY o.id"

// BenchmarkQuery compares the same query three ways in one run: straight
// through a pgx pool (no guard), through the server's read-only layer
// (BEGIN READ ONLY, SET LOCAL statement_timeout, ROLLBACK, JSON rows), and
// as a full MCP tools/call over in-memory transports.
func BenchmarkQuery(b *testing.B) {
	c := needPG(b)
	ctx := context.Background()
	b.Run("pgx_pool_no_guard", func(b *testing.B) {
		pool, err := pgxpool.New(ctx, c.readerURL())
		if err != nil {
			b.Fatal(err)
		}
		defer pool.Close()
		b.ReportAllocs()
		for b.Loop() {
			rows, err := pool.Query(ctx, benchSQL)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([]any, error) { return r.Values() }); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("read_only_layer", func(b *testing.B) {
		db, err := Connect(ctx, c.readerURL(), defaultConfig(), discardLogger())
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := db.Query(ctx, benchSQL, 100); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("mcp_tool_call", func(b *testing.B) {
		db, err := Connect(ctx, c.readerURL(), defaultConfig(), discardLogger())
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		srv, err := newServer(db, mcpkit.WithDefaultIdentity(transport.LocalIdentity(AllScopes...)))
		if err != nil {
			b.Fatal(err)
		}
		cs := mcpkittest.NewHarness(b, srv).Session
		params := &mcp.CallToolParams{Name: "query", Arguments: map[string]any{"sql": benchSQL}}
		b.ReportAllocs()
		for b.Loop() {
			res, err := cs.CallTool(ctx, params)
			if err != nil || res.IsError {
				b.Fatal(err, mcpkittest.Text(res))
			}
		}
	})
}
