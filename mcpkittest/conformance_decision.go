package mcpkittest

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpkit-go/mcpkit/approval"
)

// TestDecisionStore checks that the stores newStore returns meet the
// approval.DecisionStore contract on top of TestStore's: a decision reaches
// Await exactly as made, and decide sees the request as added; of 32
// concurrent Decides one delivers and the rest are ErrDecided without
// running decide; a decide that fails delivers nothing; unknown and
// withdrawn ids are ErrNotFound; Await withdraws the request, keeps a
// decision delivered before its context ended, and never loses one that
// Decide reported delivered; a done context is refused. newStore is called
// once per subtest and must return an empty store.
func TestDecisionStore(t testing.TB, newStore func(t testing.TB) approval.DecisionStore) {
	t.Helper()
	r := runnerFor(t)
	conform(r, storeChecks(), func(t testing.TB) approval.Store { return newStore(t) })
	conform(r, decisionChecks(), newStore)
}

func decisionChecks() []conformCheck[func(testing.TB) approval.DecisionStore] {
	type factory = func(testing.TB) approval.DecisionStore
	bg := context.Background()
	must := func(t testing.TB, err error, what string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	added := func(t testing.TB, s approval.DecisionStore) approval.Request {
		t.Helper()
		r := sampleRequest(time.Now())
		must(t, s.Add(bg, r), "Add")
		return r
	}
	decision := func(who string) approval.Decision {
		return approval.Decision{Verdict: approval.VerdictApproved, Approver: who, Reason: "looks right", At: time.Now().Truncate(time.Millisecond)}
	}
	give := func(d approval.Decision) func(approval.Request) (approval.Decision, error) {
		return func(approval.Request) (approval.Decision, error) { return d, nil }
	}
	await := func(s approval.DecisionStore, id string, within time.Duration) chan error {
		done := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(bg, within)
			defer cancel()
			_, err := s.Await(ctx, id)
			done <- err
		}()
		return done
	}
	sameDecision := func(t testing.TB, got, want approval.Decision) {
		t.Helper()
		if got.Verdict != want.Verdict || got.Approver != want.Approver || got.Reason != want.Reason || !got.At.Equal(want.At) {
			t.Errorf("Await returned %+v, want the decision made, %+v", got, want)
		}
	}
	return []conformCheck[factory]{
		{"a decision reaches Await as made, and decide sees the request as added", func(t testing.TB, f factory) {
			s := f(t)
			want := added(t, s)
			got := make(chan approval.Decision, 1)
			go func() {
				d, err := s.Await(bg, want.ID)
				if err != nil {
					t.Errorf("Await: %v", err)
				}
				got <- d
			}()
			d := decision("bob")
			must(t, s.Decide(bg, want.ID, func(r approval.Request) (approval.Decision, error) {
				if diff := sameRequest(r, want); diff != "" {
					t.Errorf("decide was given another request than was added (approver rules read it): %s", diff)
				}
				return d, nil
			}), "Decide")
			select {
			case g := <-got:
				sameDecision(t, g, d)
			case <-time.After(10 * time.Second):
				t.Fatal("Await did not return a delivered decision within 10s")
			}
		}},
		{"a decision made before Await is returned by it", func(t testing.TB, f factory) {
			s := f(t)
			r := added(t, s)
			d := decision("bob")
			must(t, s.Decide(bg, r.ID, give(d)), "Decide")
			if list, err := s.List(bg); err != nil || len(list) != 0 {
				t.Errorf("List after the decision has %d requests (%v), want none: a decided request is not pending", len(list), err)
			}
			ctx, cancel := context.WithTimeout(bg, 10*time.Second)
			defer cancel()
			got, err := s.Await(ctx, r.ID)
			must(t, err, "Await")
			sameDecision(t, got, d)
		}},
		{"a second decision is ErrDecided and does not run decide", func(t testing.TB, f factory) {
			s := f(t)
			r := added(t, s)
			must(t, s.Decide(bg, r.ID, give(decision("bob"))), "Decide")
			err := s.Decide(bg, r.ID, func(approval.Request) (approval.Decision, error) {
				t.Error("decide ran for a request already decided")
				return decision("carol"), nil
			})
			if !errors.Is(err, approval.ErrDecided) {
				t.Errorf("a second Decide returned %v, want ErrDecided", err)
			}
		}},
		{"one of 32 concurrent decisions is delivered", func(t testing.TB, f factory) {
			s := f(t)
			r := added(t, s)
			var delivered, decided, ran, other atomic.Int32
			together(concurrency, func(i int) {
				err := s.Decide(bg, r.ID, func(approval.Request) (approval.Decision, error) {
					ran.Add(1)
					return decision("reviewer"), nil
				})
				switch {
				case err == nil:
					delivered.Add(1)
				case errors.Is(err, approval.ErrDecided):
					decided.Add(1)
				default:
					other.Add(1)
				}
			})
			if delivered.Load() != 1 || ran.Load() != 1 || other.Load() != 0 {
				t.Errorf("32 concurrent Decides: %d delivered, %d ran decide, %d ErrDecided, %d other errors; want exactly one decision (two reviewers would both be told they decided)",
					delivered.Load(), ran.Load(), decided.Load(), other.Load())
			}
		}},
		{"a decide that fails delivers nothing", func(t testing.TB, f factory) {
			s := f(t)
			r := added(t, s)
			refused := errors.New("not an approver")
			if err := s.Decide(bg, r.ID, func(approval.Request) (approval.Decision, error) { return approval.Decision{}, refused }); !errors.Is(err, refused) {
				t.Fatalf("Decide returned %v, want decide's error", err)
			}
			d := decision("bob")
			must(t, s.Decide(bg, r.ID, give(d)), "Decide after a refused one")
			ctx, cancel := context.WithTimeout(bg, 10*time.Second)
			defer cancel()
			got, err := s.Await(ctx, r.ID)
			must(t, err, "Await")
			sameDecision(t, got, d)
		}},
		{"an unknown or removed id is ErrNotFound", func(t testing.TB, f factory) {
			s := f(t)
			never := func(approval.Request) (approval.Decision, error) {
				t.Error("decide ran for an id the store does not hold")
				return decision("bob"), nil
			}
			for _, id := range []string{randomID("req-"), "x'); DROP TABLE requests; --", ""} {
				if err := s.Decide(bg, id, never); !errors.Is(err, approval.ErrNotFound) {
					t.Errorf("Decide(%q) returned %v, want ErrNotFound", id, err)
				}
			}
			r := added(t, s)
			must(t, s.Remove(bg, r.ID), "Remove")
			if err := s.Decide(bg, r.ID, never); !errors.Is(err, approval.ErrNotFound) {
				t.Errorf("Decide after Remove returned %v, want ErrNotFound", err)
			}
			if _, err := s.Await(bg, randomID("req-")); !errors.Is(err, approval.ErrNotFound) {
				t.Errorf("Await of an unknown id returned %v, want ErrNotFound", err)
			}
		}},
		{"Await withdraws the request when its context ends", func(t testing.TB, f factory) {
			s := f(t)
			r := added(t, s)
			if err := <-await(s, r.ID, 300*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Await past its context returned %v, want context.DeadlineExceeded", err)
			}
			err := s.Decide(bg, r.ID, func(approval.Request) (approval.Decision, error) {
				t.Error("decide ran for a withdrawn request: a decision would be taken for a call that is gone")
				return decision("bob"), nil
			})
			if !errors.Is(err, approval.ErrNotFound) && !errors.Is(err, approval.ErrNotWaiting) {
				t.Errorf("Decide after the wait ended returned %v, want ErrNotFound or ErrNotWaiting", err)
			}
			if list, _ := s.List(bg); len(list) != 0 {
				t.Errorf("a withdrawn request is still listed")
			}
		}},
		{"a delivered decision is never lost to a wait that ends", func(t testing.TB, f factory) {
			s := f(t)
			for round := range 3 {
				r := added(t, s)
				inDecide := make(chan struct{})
				release := make(chan struct{})
				decided := make(chan error, 1)
				d := decision("bob")
				go func() {
					decided <- s.Decide(bg, r.ID, func(approval.Request) (approval.Decision, error) {
						close(inDecide)
						<-release // the console writing the audit record
						return d, nil
					})
				}()
				<-inDecide
				got := make(chan approval.Decision, 1)
				waitErr := make(chan error, 1)
				go func() {
					ctx, cancel := context.WithTimeout(bg, 100*time.Millisecond)
					defer cancel()
					g, err := s.Await(ctx, r.ID)
					got <- g
					waitErr <- err
				}()
				time.Sleep(200 * time.Millisecond) // the wait's context ends while decide runs
				close(release)
				derr, werr, g := <-decided, <-waitErr, <-got
				switch {
				case derr == nil && werr != nil:
					t.Fatalf("round %d: Decide reported the decision delivered, but Await returned %v: a reviewer is told they decided a call that did not get it", round, werr)
				case derr == nil:
					sameDecision(t, g, d)
				case werr == nil:
					t.Fatalf("round %d: Await returned %+v, but Decide failed: %v", round, g, derr)
				}
			}
		}},
		{"Decide and Await refuse a done context", func(t testing.TB, f factory) {
			s := f(t)
			r := added(t, s)
			ctx, cancel := context.WithCancel(bg)
			cancel()
			err := s.Decide(ctx, r.ID, func(approval.Request) (approval.Decision, error) {
				t.Error("decide ran with a done context")
				return decision("bob"), nil
			})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Decide with a done context returned %v, want an error wrapping context.Canceled", err)
			}
			if _, err := s.Await(ctx, r.ID); !errors.Is(err, context.Canceled) {
				t.Errorf("Await with a done context and no decision returned %v, want an error wrapping context.Canceled", err)
			}
		}},
	}
}
