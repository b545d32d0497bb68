package pgstate

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMigrateIsIdempotentAndSafeFromManyReplicas(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { errs[i] = Migrate(ctx, db, "") })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	all, err := migrations()
	require.NoError(t, err)
	var n int
	require.NoError(t, db.QueryRow(ctx, "SELECT count(*) FROM mcpkit.schema_migrations").Scan(&n))
	assert.Equal(t, len(all), n, "each migration recorded once")
	require.NoError(t, Migrate(ctx, db, ""))
}

func TestMigrateRefusesANewerSchema(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	require.NoError(t, Migrate(ctx, db, "fleet"))
	_, err := db.Exec(ctx, "INSERT INTO fleet.schema_migrations (version, name) VALUES (999, 'future')")
	require.NoError(t, err)
	err = Migrate(ctx, db, "fleet")
	require.ErrorContains(t, err, "migration 999")
	require.ErrorContains(t, err, "upgrade this binary")
}

func TestMigrateRefusesAnUnsafeSchemaName(t *testing.T) {
	db := newDB(t)
	for _, name := range []string{"x; DROP TABLE y", "Upper", "a.b", `"q"`} {
		err := Migrate(context.Background(), db, name)
		assert.ErrorContains(t, err, "schema name", name)
	}
}
