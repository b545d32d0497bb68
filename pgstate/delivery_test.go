package pgstate

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// A replica whose waiting call can no longer take decisions (its store
// stopped: the process is dying) still looks alive for the rest of its
// lease. A reviewer approving its call within that window is told that
// nothing ran (409), the review's record says it was not delivered, and
// the call, when its wait ends, does not apply the decision: the handler
// never runs.
func TestFleetDecisionForAStoppedReplicaIsNotDelivered(t *testing.T) {
	db := migrated(t)
	var runs atomic.Int32
	a := newFleetReplica(t, "a", db, &runs, 4*time.Second, WithLease(time.Minute))
	b := newFleetReplica(t, "b", db, &runs, time.Minute, WithDeliveryTimeout(time.Second))
	p, done := a.call(t, "carol")
	a.store.Close() // no more polling, notifications nor renewals: A is going

	start := time.Now()
	code, body := b.decide(t, "tok-bob", p.ID, "approve", `{"reason":"checked"}`)
	assert.Less(t, time.Since(start), 5*time.Second, "the reviewer waited for more than the delivery timeout")
	require.Equal(t, http.StatusConflict, code, body)
	assert.Contains(t, body, "the waiting call did not take the decision: its server may have stopped; nothing ran")

	b.mu.Lock()
	reviews := append([]approval.Review(nil), b.reviews...)
	b.mu.Unlock()
	require.Len(t, reviews, 2, "the approval and its non-delivery are both on the record")
	assert.Equal(t, approval.ReviewApproved, reviews[0].Outcome, "the approval is recorded before it is applied")
	assert.Equal(t, approval.ReviewNotWaiting, reviews[1].Outcome)
	assert.Equal(t, http.StatusConflict, reviews[1].Status)
	assert.Contains(t, reviews[1].Error, "did not take the decision")
	assert.Equal(t, p.ID, reviews[1].RequestID)
	assert.Equal(t, "bob", reviews[1].Reviewer.Subject)

	// The decision is gone from the row, and the request from the list.
	var decided bool
	err := db.QueryRow(context.Background(), "SELECT decision IS NOT NULL FROM mcpkit.approval_requests WHERE id = $1", p.ID).Scan(&decided)
	require.NoError(t, err)
	assert.False(t, decided, "a withdrawn decision is still stored")
	_, list := get(t, b, "tok-bob", "/api/pending")
	assert.NotContains(t, list, p.ID, "a request whose decision was not taken is still listed")

	// A's wait ends (its withdrawal still reaches the database): it does
	// not find the approval, and the handler never runs.
	res := wait(t, done)
	assert.True(t, res.res.IsError, mcpkittest.Text(res.res))
	assert.Zero(t, runs.Load(), "the handler ran for a decision the reviewer was told was not delivered")
}

// The owner's take and the decider's withdrawal race on one row: a
// decision Confirm withdrew is never returned by a later Await of the
// owner, and one the owner took is confirmed.
func TestStoreConfirm(t *testing.T) {
	db := migrated(t)
	ctx := context.Background()
	owner := newStore(t, db, WithInstance("owner"), WithPollInterval(100*time.Millisecond))
	decider := newStore(t, db, WithInstance("decider"), WithPollInterval(100*time.Millisecond), WithDeliveryTimeout(300*time.Millisecond))
	approve := func(approval.Request) (approval.Decision, error) {
		return approval.Decision{Verdict: approval.VerdictApproved, Approver: "bob", At: time.Now()}, nil
	}
	request := func(id string) approval.Request {
		return approval.Request{ID: id, Tool: "delete_item", Principal: mcpkit.Identity{Subject: "carol"},
			Created: time.Now(), Deadline: time.Now().Add(time.Hour)}
	}

	// Nobody awaits: the decision is withdrawn, and the owner, waiting
	// after that, does not get it.
	require.NoError(t, owner.Add(ctx, request("late")))
	require.NoError(t, decider.Decide(ctx, "late", approve))
	assert.ErrorIs(t, decider.Confirm(ctx, "late"), approval.ErrNotDelivered)
	wctx, cancel := context.WithTimeout(ctx, time.Second)
	d, err := owner.Await(wctx, "late")
	cancel()
	assert.ErrorIs(t, err, context.DeadlineExceeded, "Await returned %+v for a withdrawn decision", d)

	// A live owner gets the request back (its lease renewed) and can be
	// decided again: a call that is alive but was slow loses nothing.
	require.NoError(t, owner.Add(ctx, request("slow")))
	require.NoError(t, decider.Decide(ctx, "slow", approve))
	require.ErrorIs(t, decider.Confirm(ctx, "slow"), approval.ErrNotDelivered)
	assert.ErrorIs(t, decider.Decide(ctx, "slow", approve), approval.ErrNotWaiting, "a withdrawn request is decidable before its owner renews it")
	got := make(chan error, 1)
	go func() {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_, err := owner.Await(wctx, "slow")
		got <- err
	}()
	require.Eventually(t, func() bool {
		err := decider.Decide(ctx, "slow", approve)
		return err == nil
	}, 5*time.Second, 50*time.Millisecond, "the live owner's request did not come back")
	assert.NoError(t, decider.Confirm(ctx, "slow"))
	assert.NoError(t, <-got)

	// Unknown ids.
	assert.ErrorIs(t, decider.Confirm(ctx, ""), approval.ErrNotFound)
	assert.NoError(t, decider.Confirm(ctx, "never-added"), "a row that is gone was taken (or withdrawn by its owner)")
}

// When the owner's take and the decider's withdrawal come at the same
// moment, exactly one wins: Confirm answers nil if and only if Await
// returned the decision.
func TestStoreConfirmRacesTheTake(t *testing.T) {
	db := migrated(t)
	ctx := context.Background()
	owner := newStore(t, db, WithInstance("owner"), WithPollInterval(100*time.Millisecond))
	decider := newStore(t, db, WithInstance("decider"), WithPollInterval(100*time.Millisecond), WithDeliveryTimeout(200*time.Millisecond))
	var taken, withdrawn int
	for i := range 16 {
		id := "race-" + string(rune('a'+i))
		require.NoError(t, owner.Add(ctx, approval.Request{ID: id, Tool: "t", Created: time.Now(), Deadline: time.Now().Add(time.Hour)}))
		require.NoError(t, decider.Decide(ctx, id, func(approval.Request) (approval.Decision, error) {
			return approval.Decision{Verdict: approval.VerdictApproved, Approver: "bob", At: time.Now()}, nil
		}))
		confirmed := make(chan error, 1)
		go func() { confirmed <- decider.Confirm(ctx, id) }()
		// The owner starts waiting around the delivery timeout: its
		// take (at once, on Await's first poll) meets the withdrawal.
		time.Sleep(time.Duration(150+i*8) * time.Millisecond)
		wctx, cancel := context.WithTimeout(ctx, 700*time.Millisecond)
		_, aerr := owner.Await(wctx, id)
		cancel()
		cerr := <-confirmed
		switch {
		case cerr == nil && aerr == nil:
			taken++
		case errors.Is(cerr, approval.ErrNotDelivered) && errors.Is(aerr, context.DeadlineExceeded):
			withdrawn++
		default:
			t.Fatalf("round %d: Confirm returned %v and Await %v: the reviewer and the call disagree", i, cerr, aerr)
		}
	}
	t.Logf("%d taken, %d withdrawn", taken, withdrawn)
	assert.NotZero(t, withdrawn, "no round was withdrawn: the race was not played")
	assert.NotZero(t, taken, "no round was taken: the race was not played")
}

func TestStoreDeliveryTimeoutOption(t *testing.T) {
	db := migrated(t)
	for _, d := range []time.Duration{0, time.Second, 6 * time.Second} {
		_, err := NewStore(context.Background(), db, WithDeliveryTimeout(d))
		assert.ErrorContains(t, err, "WithDeliveryTimeout", "%v", d)
	}
	s := newStore(t, db, WithDeliveryTimeout(1500*time.Millisecond))
	assert.Equal(t, 1500*time.Millisecond, s.delivery)
}
