package pgstate

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/internal/pgtest"
	"github.com/mcpkit-go/mcpkit/ratelimit"
)

// The package runs under the role role.sql grants: replay cache, console
// store (decisions, NOTIFY, LISTEN, lease renewal, purge) and limiter all
// work, Check passes, and the role can neither migrate nor change the
// schema.
func TestLeastPrivilegeRole(t *testing.T) {
	admin := migrated(t)
	ctx := context.Background()
	cluster := pg.Get(t)
	role, password := "replica_"+pgtest.Password()[3:11], pgtest.Password()
	_, err := admin.Exec(ctx, "CREATE ROLE "+role+" LOGIN PASSWORD '"+password+"'")
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = admin.Exec(context.Background(), "DROP OWNED BY "+role)
	})
	grants, err := Grants(DefaultSchema, role)
	require.NoError(t, err)
	_, err = admin.Exec(ctx, grants)
	require.NoError(t, err)
	pool, err := pgxpool.New(ctx, cluster.URL(role, password, admin.Config().ConnConfig.Database))
	require.NoError(t, err)
	t.Cleanup(pool.Close)

	require.NoError(t, Check(ctx, pool, DefaultSchema))

	replay := newReplay(t, pool, WithCleanupBatch(10))
	fresh, err := replay.Use(ctx, "n1", time.Now().Add(-SkewAllowance-time.Minute))
	require.NoError(t, err)
	assert.True(t, fresh)
	n, err := replay.Cleanup(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, 1, n)

	owner := newStore(t, pool, WithLease(time.Second), WithPollInterval(100*time.Millisecond))
	other := newStore(t, replica(t, pool))
	req := approval.Request{ID: "r1", Tool: "t", Created: time.Now(), Deadline: time.Now().Add(time.Minute)}
	require.NoError(t, owner.Add(ctx, req))
	time.Sleep(700 * time.Millisecond) // a lease renewal
	list, err := other.List(ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.NoError(t, other.Decide(ctx, "r1", func(approval.Request) (approval.Decision, error) {
		return approval.Decision{Verdict: approval.VerdictApproved, Approver: "bob"}, nil
	}))
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	d, err := owner.Await(wctx, "r1")
	require.NoError(t, err)
	assert.Equal(t, "bob", d.Approver)
	// The background statements, run here to see their errors.
	_, err = pool.Exec(ctx, owner.sql.renew, owner.instance, []string{"r1"}, 1.0)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, owner.sql.purge, 0.0)
	require.NoError(t, err)

	lim, err := NewLimiter(pool)
	require.NoError(t, err)
	dec, err := lim.Allow(ctx, "caller", ratelimit.Limit{Events: 1, Per: time.Minute})
	require.NoError(t, err)
	assert.True(t, dec.Allowed)
	_, err = lim.Cleanup(ctx)
	require.NoError(t, err)

	for _, ddl := range []string{
		"DROP TABLE mcpkit.approval_states",
		"TRUNCATE mcpkit.approval_requests",
		"ALTER TABLE mcpkit.approval_requests ADD COLUMN x int",
		"CREATE TABLE mcpkit.x (id int)",
		"DELETE FROM mcpkit.schema_migrations",
	} {
		_, err := pool.Exec(ctx, ddl)
		var pgErr *pgconn.PgError
		if assert.ErrorAs(t, err, &pgErr, ddl) {
			assert.Equal(t, "42501", pgErr.Code, "%s: %v (want insufficient_privilege)", ddl, err)
		}
	}
	err = Migrate(ctx, pool, DefaultSchema)
	var pgErr *pgconn.PgError
	require.ErrorAs(t, err, &pgErr, "the replica's role could migrate")
	assert.Equal(t, "42501", pgErr.Code)
}

func TestGrantsRefusesUnsafeNames(t *testing.T) {
	_, err := Grants("mcpkit", "r; DROP ROLE postgres")
	assert.ErrorContains(t, err, "role name")
	_, err = Grants("x.y", "r")
	assert.ErrorContains(t, err, "schema name")
}

func TestCheckSaysWhatIsMissing(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	assert.ErrorContains(t, Check(ctx, db, ""), "run pgstate.Migrate")
	require.NoError(t, Migrate(ctx, db, ""))
	require.NoError(t, Check(ctx, db, ""))
	_, err := db.Exec(ctx, "DELETE FROM mcpkit.schema_migrations WHERE version = 1")
	require.NoError(t, err)
	assert.ErrorContains(t, Check(ctx, db, ""), "lacks migrations 001_approval")
}
