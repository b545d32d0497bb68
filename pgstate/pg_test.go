package pgstate

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/internal/pgtest"
)

// pg is the throwaway PostgreSQL the tests share (internal/pgtest).
var pg pgtest.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	pg.Remove()
	os.Exit(code)
}

// newDB returns a superuser pool on a fresh database of its own.
func newDB(t testing.TB) *pgxpool.Pool {
	t.Helper()
	c := pg.Get(t)
	ctx := context.Background()
	name := "t" + pgtest.Password()[3:]
	require.NoError(t, c.Exec(ctx, "postgres", "CREATE DATABASE "+name))
	pool, err := pgxpool.New(ctx, c.SuperURL(name))
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool
}
