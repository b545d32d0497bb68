package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Order is the service's existing domain type: the REST API and the MCP
// tools return the same value.
type Order struct {
	ID          string    `json:"id" jsonschema:"description=Order id such as ord_1001"`
	Customer    string    `json:"customer" jsonschema:"description=Customer account name"`
	Status      string    `json:"status" jsonschema:"description=One of pending or paid or shipped or cancelled"`
	TotalCents  int64     `json:"total_cents" jsonschema:"description=Order total in the currency's minor unit"`
	Currency    string    `json:"currency" jsonschema:"description=ISO 4217 currency code"`
	CreatedAt   time.Time `json:"created_at" jsonschema:"description=When the order was placed"`
	CancelledBy string    `json:"cancelled_by,omitempty" jsonschema:"description=Who cancelled the order"`
	Reason      string    `json:"cancel_reason,omitempty" jsonschema:"description=Why the order was cancelled"`
}

// Order statuses.
const (
	StatusPending   = "pending"
	StatusPaid      = "paid"
	StatusShipped   = "shipped"
	StatusCancelled = "cancelled"
)

// ErrNotFound and ErrNotCancellable are the store's domain errors; the REST
// handlers map them to 404 and 409, the MCP tools to client-safe messages.
var (
	ErrNotFound       = errors.New("order not found")
	ErrNotCancellable = errors.New("order cannot be cancelled")
)

// OrderStore is the service's existing repository interface (a database in
// a real service). Both the REST handlers and the MCP tools go through it,
// so business rules live in one place.
type OrderStore interface {
	List(ctx context.Context, status string, limit int) ([]Order, error)
	Get(ctx context.Context, id string) (Order, error)
	Cancel(ctx context.Context, id, by, reason string) (Order, error)
}

// memoryOrders is the example's store: a handful of orders in memory.
type memoryOrders struct {
	mu     sync.Mutex
	orders map[string]Order
}

func newMemoryOrders() *memoryOrders {
	base := time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)
	s := &memoryOrders{orders: map[string]Order{}}
	for i, o := range []struct {
		customer, status string
		cents            int64
	}{
		{"acme", StatusPaid, 129900}, {"globex", StatusPending, 4500}, {"initech", StatusShipped, 88000},
		{"acme", StatusPending, 2300}, {"umbrella", StatusPaid, 560000}, {"globex", StatusCancelled, 1200},
		{"hooli", StatusPending, 99900}, {"initech", StatusPaid, 15000},
	} {
		id := fmt.Sprintf("ord_%d", 1001+i)
		s.orders[id] = Order{ID: id, Customer: o.customer, Status: o.status, TotalCents: o.cents,
			Currency: "EUR", CreatedAt: base.Add(time.Duration(i) * 97 * time.Minute)}
	}
	return s
}

func (s *memoryOrders) List(_ context.Context, status string, limit int) ([]Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Order, 0, len(s.orders))
	for _, o := range s.orders {
		if status == "" || o.Status == status {
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(a, b Order) int { return a.CreatedAt.Compare(b.CreatedAt) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (s *memoryOrders) Get(_ context.Context, id string) (Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[id]
	if !ok {
		return Order{}, ErrNotFound
	}
	return o, nil
}

// Cancel is the one business rule: only orders not yet shipped (or already
// cancelled) can be cancelled.
func (s *memoryOrders) Cancel(_ context.Context, id, by, reason string) (Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[id]
	if !ok {
		return Order{}, ErrNotFound
	}
	if o.Status != StatusPending && o.Status != StatusPaid {
		return o, fmt.Errorf("%w: it is %s", ErrNotCancellable, o.Status)
	}
	o.Status, o.CancelledBy, o.Reason = StatusCancelled, by, reason
	s.orders[id] = o
	return o, nil
}
