package approval

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
)

// ErrNotFound is returned by a Store for an id it does not hold.
var ErrNotFound = errors.New("approval: no such pending request")

// Store holds the requests waiting for a decision in the console. The
// in-memory store is the default; a shared store (a database table) lets
// reviewers see every replica's requests. A plain Store only lists
// requests: the decision is delivered to the waiting call by the Console
// of the process serving it, so a request whose call is gone (a restart)
// can never be approved. A DecisionStore also carries decisions from any
// process's console to the waiting call.
//
// Approver rules and the four-eyes check read the request a Store returns,
// so a Store must give back every field it was given (the principal and the
// tool's scopes above all) except Call, which is never stored. Each method
// returns ctx.Err() once ctx is done. mcpkittest.TestStore checks an
// implementation against this contract.
type Store interface {
	// Add stores r under r.ID, replacing a request with the same ID.
	Add(ctx context.Context, r Request) error
	// Get returns the request stored under id, or an error wrapping
	// ErrNotFound.
	Get(ctx context.Context, id string) (Request, error)
	// List returns the pending requests, oldest first (by Created, then
	// ID). A DecisionStore leaves out those already decided and those
	// whose call is gone.
	List(ctx context.Context) ([]Request, error)
	// Remove deletes the request stored under id; removing an id the
	// store does not hold is not an error (two replicas may both remove).
	Remove(ctx context.Context, id string) error
}

// MemoryStore is the in-memory Store and DecisionStore of one process.
type MemoryStore struct {
	mu       sync.Mutex
	requests map[string]*memEntry
}

// memEntry is one stored request and its decision.
type memEntry struct {
	req Request
	// turn is held (one token) by a Decide calling its decide function
	// and by a withdrawal, so that they happen one after the other.
	turn chan struct{}
	// decided is closed when decision is set (under MemoryStore.mu).
	decided  chan struct{}
	decision *Decision
}

// take waits for the entry's turn, or for ctx to end (its error); give
// hands the turn back.
func (e *memEntry) take(ctx context.Context) error {
	select {
	case e.turn <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (e *memEntry) give() { <-e.turn }

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore { return &MemoryStore{requests: map[string]*memEntry{}} }

// Add implements Store. A request added again is undecided again.
func (m *MemoryStore) Add(ctx context.Context, r Request) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[r.ID] = &memEntry{req: stored(r), turn: make(chan struct{}, 1), decided: make(chan struct{})}
	return nil
}

// Get implements Store.
func (m *MemoryStore) Get(ctx context.Context, id string) (Request, error) {
	if err := ctx.Err(); err != nil {
		return Request{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.requests[id]
	if !ok {
		return Request{}, ErrNotFound
	}
	return stored(e.req), nil
}

// List implements Store: the requests not decided yet.
func (m *MemoryStore) List(ctx context.Context) ([]Request, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	out := make([]Request, 0, len(m.requests))
	for _, e := range m.requests {
		if e.decision == nil {
			out = append(out, stored(e.req))
		}
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b Request) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// Remove implements Store. It waits for a Decide of the request that is
// running its decide function.
func (m *MemoryStore) Remove(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e := m.entry(id)
	if e == nil {
		return nil
	}
	if err := e.take(ctx); err != nil {
		return err
	}
	defer e.give()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.requests[id] == e {
		delete(m.requests, id)
	}
	return nil
}

func (m *MemoryStore) entry(id string) *memEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.requests[id]
}

// Decide implements DecisionStore.
func (m *MemoryStore) Decide(ctx context.Context, id string, decide func(Request) (Decision, error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e := m.entry(id)
	if e == nil {
		return ErrNotFound
	}
	if err := e.take(ctx); err != nil {
		return err
	}
	defer e.give()
	m.mu.Lock()
	current, decided := m.requests[id] == e, e.decision != nil
	m.mu.Unlock()
	switch {
	case !current:
		return ErrNotFound
	case decided:
		return ErrDecided
	}
	d, err := decide(stored(e.req))
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// Holding the turn, nothing removed or decided the entry meanwhile.
	e.decision = &d
	close(e.decided)
	return nil
}

// Await implements DecisionStore.
func (m *MemoryStore) Await(ctx context.Context, id string) (Decision, error) {
	e := m.entry(id)
	if e == nil {
		if err := ctx.Err(); err != nil {
			return Decision{}, err
		}
		return Decision{}, ErrNotFound
	}
	select {
	case <-e.decided:
	case <-ctx.Done():
	}
	// Withdraw: wait for a Decide that is running (its decide function
	// is the console recording the decision), then remove the entry.
	e.turn <- struct{}{}
	m.mu.Lock()
	if m.requests[id] == e {
		delete(m.requests, id)
	}
	d := e.decision
	m.mu.Unlock()
	<-e.turn
	if d != nil {
		return *d, nil
	}
	return Decision{}, ctx.Err()
}

// stored returns the copy of r a store keeps or hands out: without the
// call, and sharing no slice with r, so that neither the caller nor a
// reader can change what the store holds.
func stored(r Request) Request {
	r.Call = nil
	r.Arguments = slices.Clone(r.Arguments)
	r.ToolScopes = slices.Clone(r.ToolScopes)
	r.Principal.Groups = slices.Clone(r.Principal.Groups)
	r.Principal.Scopes = slices.Clone(r.Principal.Scopes)
	return r
}
