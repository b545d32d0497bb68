package approval

import (
	"context"
	"errors"
)

// Errors of a DecisionStore's Decide.
var (
	// ErrDecided: another decision for the request came first.
	ErrDecided = errors.New("approval: the request was already decided")
	// ErrNotWaiting: the request is still listed but no call waits for it
	// any more (the process serving it stopped, or lost the store).
	ErrNotWaiting = errors.New("approval: no call waits for the request any more")
	// ErrNotDelivered: a DeliveryConfirmer's waiting call did not take
	// the decision in time (its process may have stopped), and the
	// decision was withdrawn: it is never applied.
	ErrNotDelivered = errors.New("approval: the waiting call did not take the decision")
)

// DeliveryConfirmer is a DecisionStore shared by processes whose waiting
// call acknowledges the decision it takes. The Console confirms every
// decision Decide stored before telling the reviewer it was applied: a
// process that died a moment ago still looks alive to the store (its lease
// has not run out), and a decision for its call would otherwise be
// reported approved and never run. MemoryStore needs none: its waiting
// call is in the same process.
type DeliveryConfirmer interface {
	// Confirm waits, a bounded time, for the call waiting on id to take
	// the decision a Decide of id just stored. If it took it, Confirm
	// returns nil. Otherwise Confirm withdraws the decision, in one step
	// that races the call's take so that exactly one of them wins, and
	// returns ErrNotDelivered: the call never applies it. Another error
	// means the store failed and delivery is not known.
	Confirm(ctx context.Context, id string) error
}

// DecisionStore is a Store that also carries the console's decisions to the
// waiting call, wherever it waits: with one shared by the replicas of a
// fleet, a reviewer decides through any replica's console, and the decision
// reaches the replica whose call waits. The Console checks for it once, in
// NewConsole; with a plain Store a decision reaches only calls waiting in
// the same process (409 otherwise). MemoryStore is one (for one process);
// pgstate.Store is one in PostgreSQL.
//
// A request is waiting from Add until Await returns (or Remove): the
// process that added it vouches for its call until then, and a store
// shared by processes notices when that process is gone (Decide answers
// ErrNotWaiting). mcpkittest.TestDecisionStore checks an implementation
// against this contract.
type DecisionStore interface {
	Store
	// Decide takes the request id for one decision. It calls decide with
	// the request as stored while no other Decide or Await for id can
	// complete, and delivers the Decision decide returns to the call
	// waiting in Await, unless decide returns an error (then nothing is
	// delivered, and Decide returns that error). Of any number of Decides
	// for one id, on any processes, at most one delivers; the others
	// return ErrDecided without calling decide. An unknown (or withdrawn)
	// id is ErrNotFound, a request whose call is gone ErrNotWaiting; in
	// both cases decide is not called. A nil error means the decision
	// was delivered: Await returns it.
	Decide(ctx context.Context, id string, decide func(Request) (Decision, error)) error
	// Await waits for the decision on id, a request this process added,
	// and withdraws the request: once Await returned, no Decide for id
	// delivers. When ctx ends first it returns the decision delivered
	// before, if any, else ctx.Err(). An unknown id is ErrNotFound.
	Await(ctx context.Context, id string) (Decision, error)
}

// localDecisions makes a plain Store a DecisionStore for the calls of this
// process: the store lists the requests, and decisions go only to calls
// waiting here (a request listed by another process is ErrNotWaiting).
type localDecisions struct {
	Store
	local *MemoryStore
}

func (l localDecisions) Add(ctx context.Context, r Request) error {
	if err := l.Store.Add(ctx, r); err != nil {
		return err
	}
	return l.local.Add(ctx, r)
}

func (l localDecisions) Remove(ctx context.Context, id string) error {
	if err := l.local.Remove(ctx, id); err != nil {
		return err
	}
	return l.Store.Remove(ctx, id)
}

func (l localDecisions) Decide(ctx context.Context, id string, decide func(Request) (Decision, error)) error {
	err := l.local.Decide(ctx, id, decide)
	if errors.Is(err, ErrNotFound) {
		// Listed, but served by another process (or left by a previous
		// one): never decided here.
		if _, gerr := l.Store.Get(ctx, id); gerr == nil {
			return ErrNotWaiting
		}
	}
	return err
}

// Await withdraws the request from the calls waiting here, so that no
// decision reaches it; the Console removes it from the plain store after
// (a bounded Remove).
func (l localDecisions) Await(ctx context.Context, id string) (Decision, error) {
	return l.local.Await(ctx, id)
}
