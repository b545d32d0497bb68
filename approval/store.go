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
type Store interface {
	Add(ctx context.Context, r Request) error
	Get(ctx context.Context, id string) (Request, error)
	// List returns the pending requests, oldest first.
	List(ctx context.Context) ([]Request, error)
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
func (m *MemoryStore) Add(_ context.Context, r Request) error {
	r.Call = nil
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[r.ID] = r
	return nil
}

// Get implements Store.
func (m *MemoryStore) Get(_ context.Context, id string) (Request, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.requests[id]
	if !ok {
		return Request{}, ErrNotFound
	}
	return r, nil
}

// List implements Store.
func (m *MemoryStore) List(context.Context) ([]Request, error) {
	m.mu.Lock()
	out := make([]Request, 0, len(m.requests))
	for _, r := range m.requests {
		out = append(out, r)
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
func (m *MemoryStore) Remove(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.requests, id)
	return nil
}
