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
// reviewers see every replica's requests. A Store only lists requests:
// the decision is delivered to the waiting call by the Console of the
// process serving it, so a request whose call is gone (a restart) can
// never be approved.
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
	// ID).
	List(ctx context.Context) ([]Request, error)
	// Remove deletes the request stored under id; removing an id the
	// store does not hold is not an error (two replicas may both remove).
	Remove(ctx context.Context, id string) error
}

// MemoryStore is the in-memory Store.
type MemoryStore struct {
	mu       sync.Mutex
	requests map[string]Request
}

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore { return &MemoryStore{requests: map[string]Request{}} }

// Add implements Store.
func (m *MemoryStore) Add(ctx context.Context, r Request) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[r.ID] = stored(r)
	return nil
}

// Get implements Store.
func (m *MemoryStore) Get(ctx context.Context, id string) (Request, error) {
	if err := ctx.Err(); err != nil {
		return Request{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.requests[id]
	if !ok {
		return Request{}, ErrNotFound
	}
	return stored(r), nil
}

// List implements Store.
func (m *MemoryStore) List(ctx context.Context) ([]Request, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	out := make([]Request, 0, len(m.requests))
	for _, r := range m.requests {
		out = append(out, stored(r))
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

// Remove implements Store.
func (m *MemoryStore) Remove(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.requests, id)
	return nil
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
