package pgstate

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/internal/pgtest"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// newStore returns a store over db, closed when the test ends.
func newStore(t testing.TB, db *pgxpool.Pool, opts ...StoreOption) *Store {
	t.Helper()
	s, err := NewStore(context.Background(), db, opts...)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

// freshSchema migrates a schema of its own on db and returns its name.
func freshSchema(t testing.TB, db *pgxpool.Pool) string {
	t.Helper()
	name := "s" + strings.ReplaceAll(pgtest.Password()[3:], "-", "")
	require.NoError(t, Migrate(context.Background(), db, name))
	return name
}

func TestStoreConforms(t *testing.T) {
	db := newDB(t)
	mcpkittest.TestDecisionStore(t, func(t testing.TB) approval.DecisionStore {
		return newStore(t, db, WithStoreSchema(freshSchema(t, db)))
	})
}

// Polling alone carries decisions: the conformance suite passes with
// LISTEN/NOTIFY off.
func TestStoreConformsWithoutNotify(t *testing.T) {
	db := newDB(t)
	mcpkittest.TestDecisionStore(t, func(t testing.TB) approval.DecisionStore {
		return newStore(t, db, WithStoreSchema(freshSchema(t, db)), WithoutNotify(), WithPollInterval(100*time.Millisecond))
	})
}

func TestStoreOptionErrors(t *testing.T) {
	db := migrated(t)
	ctx := context.Background()
	_, err := NewStore(ctx, nil)
	assert.ErrorContains(t, err, "needs a pool")
	_, err = NewStore(ctx, db, WithStoreSchema("a;b"), WithInstance("no spaces"), WithPollInterval(0), WithLease(500*time.Millisecond))
	for _, want := range []string{"WithStoreSchema", "WithInstance", "WithPollInterval(0s)", "WithLease(500ms)"} {
		assert.ErrorContains(t, err, want)
	}
	_, err = NewStore(ctx, db, WithLease(2*time.Second), WithPollInterval(3*time.Second))
	assert.ErrorContains(t, err, "more than the poll interval")
	_, err = NewStore(ctx, newDB(t))
	assert.ErrorContains(t, err, "run pgstate.Migrate first")
}

// The stored request is the request: a replica other than the owner reads
// every field the approver rules and four eyes check, and the arguments
// with their keys in the order the reviewer is shown (json, not jsonb).
func TestStoreKeepsArgumentsVerbatim(t *testing.T) {
	db := migrated(t)
	a, b := newStore(t, db), newStore(t, replica(t, db))
	ctx := context.Background()
	r := approval.Request{ID: "r1", Tool: "t", Arguments: []byte(`{"z":1,"a":"[REDACTED]","m":[3,1]}`), Created: time.Now(), Deadline: time.Now().Add(time.Minute)}
	require.NoError(t, a.Add(ctx, r))
	got, err := b.Get(ctx, "r1")
	require.NoError(t, err)
	assert.Equal(t, string(r.Arguments), string(got.Arguments))
}

// The start-up context bounds only the start-up: a store made under a
// context that ends (a connect timeout) keeps renewing its leases and
// delivering decisions until Close.
func TestStoreOutlivesItsStartContext(t *testing.T) {
	db := migrated(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	owner, err := NewStore(ctx, db, WithLease(time.Second), WithPollInterval(100*time.Millisecond))
	require.NoError(t, err)
	t.Cleanup(owner.Close)
	cancel()
	other := newStore(t, replica(t, db))
	bg := context.Background()
	require.NoError(t, owner.Add(bg, approval.Request{ID: "r1", Tool: "t", Created: time.Now(), Deadline: time.Now().Add(time.Minute)}))
	time.Sleep(2500 * time.Millisecond) // two and a half leases
	require.NoError(t, other.Decide(bg, "r1", func(approval.Request) (approval.Decision, error) {
		return approval.Decision{Verdict: approval.VerdictApproved, Approver: "bob"}, nil
	}), "the owner stopped renewing its lease when its start-up context ended")
	wctx, wcancel := context.WithTimeout(bg, 5*time.Second)
	defer wcancel()
	d, err := owner.Await(wctx, "r1")
	require.NoError(t, err)
	assert.Equal(t, "bob", d.Approver)
}
