package pgstate

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// An attacker with the replicas' database login, but not the fleet's
// approval keys, writes an approval straight into the table: the waiting
// call refuses it ("failed verification") and never runs.
func TestSealForgedDecisionInTheDatabaseDoesNotRun(t *testing.T) {
	db := migrated(t)
	var runs atomic.Int32
	a := newFleetReplica(t, "a", db, &runs, time.Minute)
	p, done := a.call(t, "carol")
	tag, err := a.pool.Exec(context.Background(), `UPDATE mcpkit.approval_requests
		SET decision = '{"approver":"alice","decision":"approved","reason":"ok","at":"2026-01-01T00:00:00Z"}', decided_at = now()
		WHERE decision IS NULL`)
	require.NoError(t, err)
	require.EqualValues(t, 1, tag.RowsAffected(), "the replica role could not write the decision: the attack was not played")
	res := wait(t, done)
	require.True(t, res.res.IsError, "a decision written in the database let the call run: %s", mcpkittest.Text(res.res))
	assert.Contains(t, mcpkittest.Text(res.res), "failed verification")
	assert.Zero(t, runs.Load(), "the handler ran on a forged decision")
	_ = p
}

// The attacker changes the request reviewers see (jsonb_set on the
// arguments and summary): no console lists or decides it (a tampered
// record says why), and the call never runs.
func TestSealChangedRequestIsNotShownOrDecided(t *testing.T) {
	db := migrated(t)
	var runs atomic.Int32
	a := newFleetReplica(t, "a", db, &runs, 3*time.Second)
	b := newFleetReplica(t, "b", db, &runs, time.Minute)
	p, done := a.call(t, "carol")
	// Re-encoding the JSON (key order, spacing) changes nothing a reviewer
	// sees: the seal still holds.
	_, err := a.pool.Exec(context.Background(), `UPDATE mcpkit.approval_requests SET request = request::jsonb::json WHERE id = $1`, p.ID)
	require.NoError(t, err)
	_, body := get(t, b, "tok-bob", "/api/pending")
	require.Contains(t, body, p.ID, "the genuine request is listed")
	_, err = a.pool.Exec(context.Background(), `UPDATE mcpkit.approval_requests
		SET request = jsonb_set(jsonb_set(request::jsonb, '{arguments,id}', '"harmless"'), '{summary}', '"Delete nothing."')::json
		WHERE id = $1`, p.ID)
	require.NoError(t, err)

	code, body := get(t, b, "tok-bob", "/api/pending")
	require.Equal(t, http.StatusOK, code)
	assert.NotContains(t, body, p.ID, "a changed request is shown to reviewers")
	assert.NotContains(t, body, "harmless")
	rv := b.lastReview(t)
	assert.Equal(t, approval.ReviewTampered, rv.Outcome)
	assert.Equal(t, p.ID, rv.RequestID)
	assert.Contains(t, rv.Error, "changed after it was sealed")

	code, body = b.decide(t, "tok-bob", p.ID, "approve", `{}`)
	assert.Equal(t, http.StatusConflict, code, body)
	assert.Contains(t, body, "integrity check")
	assert.Equal(t, approval.ReviewTampered, b.lastReview(t).Outcome)

	res := wait(t, done)
	assert.True(t, res.res.IsError, "the call ran")
	assert.Zero(t, runs.Load(), "the handler ran after its request was changed in the database")
}

// A decision sealed under a key the waiting replica no longer holds is
// refused; during a rotation (the new key first added to every ring, then
// made the signing key) decisions keep working.
func TestSealKeysAndRotation(t *testing.T) {
	k1 := approval.Key{ID: "k1", Secret: []byte(strings.Repeat("1", 32))}
	k2 := approval.Key{ID: "k2", Secret: []byte(strings.Repeat("2", 32))}
	retired := approval.Key{ID: "old", Secret: []byte(strings.Repeat("0", 32))}
	db := migrated(t)

	t.Run("retired key", func(t *testing.T) {
		var runs atomic.Int32
		a := newKeyedReplica(t, "a-retired", db, &runs, time.Minute, mustKeyring(k1))
		// b still signs with a key a dropped.
		b := newKeyedReplica(t, "b-retired", db, &runs, time.Minute, mustKeyring(k1, retired))
		p, done := a.call(t, "carol")
		code, body := b.decide(t, "tok-bob", p.ID, "approve", `{}`)
		require.Equal(t, http.StatusOK, code, body)
		res := wait(t, done)
		require.True(t, res.res.IsError, "a decision under a retired key let the call run")
		assert.Contains(t, mcpkittest.Text(res.res), "not in the keyring")
		assert.Zero(t, runs.Load())
	})
	t.Run("rotation", func(t *testing.T) {
		var runs atomic.Int32
		// Mid-rotation: a verifies k2 but still signs with k1; b already
		// signs with k2.
		a := newKeyedReplica(t, "a-rot", db, &runs, time.Minute, mustKeyring(k2, k1))
		b := newKeyedReplica(t, "b-rot", db, &runs, time.Minute, mustKeyring(k1, k2))
		for _, pair := range [][2]*fleetReplica{{a, b}, {b, a}} {
			p, done := pair[0].call(t, "carol")
			code, body := pair[1].decide(t, "tok-bob", p.ID, "approve", `{}`)
			require.Equal(t, http.StatusOK, code, body)
			res := wait(t, done)
			require.False(t, res.res.IsError, mcpkittest.Text(res.res))
		}
		assert.EqualValues(t, 2, runs.Load(), "each approved call runs exactly once")
	})
}

// A reviewer is not shown their own calls (they may never decide them);
// another reviewer is.
func TestSealListLeavesOutOwnCalls(t *testing.T) {
	db := migrated(t)
	var runs atomic.Int32
	a := newFleetReplica(t, "a", db, &runs, time.Minute)
	b := newFleetReplica(t, "b", db, &runs, time.Minute)
	p, done := a.call(t, "alice")
	_, body := get(t, b, "tok-alice", "/api/pending")
	assert.NotContains(t, body, p.ID, "alice is shown her own call")
	_, body = get(t, b, "tok-bob", "/api/pending")
	assert.Contains(t, body, p.ID)
	code, body := b.decide(t, "tok-bob", p.ID, "approve", `{}`)
	require.Equal(t, http.StatusOK, code, body)
	res := wait(t, done)
	assert.False(t, res.res.IsError, mcpkittest.Text(res.res))
	assert.EqualValues(t, 1, runs.Load())
}
