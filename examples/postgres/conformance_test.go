package main

import (
	"context"
	"flag"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

var (
	update = flag.Bool("update", false, "rewrite testdata/surface.json and POLICY.md")
	accept = flag.String("accept", "", "with -update, acknowledge surface changes beyond additive: breaking, security-review")
)

// TestConformance is the one test a team adds to its CI: the mcpkittest
// suite against the server as production builds it. The suite never runs a
// handler, so the pool points at a port nothing listens on and is never
// dialled (pgxpool connects lazily): the test needs no database, and a
// handler that did run would fail as unavailable rather than pass.
func TestConformance(t *testing.T) {
	pool, err := pgxpool.New(context.Background(), "postgres://mcp_reader@127.0.0.1:1/app?sslmode=disable&connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	cfg := defaultConfig()
	db := &DB{pool: pool, cfg: cfg, begin: beginQuery(cfg.statementTimeout)}
	mcpkittest.Run(t, func(opts ...mcpkit.Option) (*mcpkit.Server, error) {
		return newServer(db, opts...)
	}, mcpkittest.Config{
		SurfaceFile: "testdata/surface.json",
		PolicyFile:  "POLICY.md",
		Update:      *update,
		Accept:      *accept,
	})
}
