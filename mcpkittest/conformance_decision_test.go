package mcpkittest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/mcpkit-go/mcpkit/approval"
)

// brokenDecisions overrides some of a MemoryStore's decision methods.
type brokenDecisions struct {
	*approval.MemoryStore
	decide func(ctx context.Context, id string, f func(approval.Request) (approval.Decision, error)) error
	await  func(ctx context.Context, id string) (approval.Decision, error)
}

func (b *brokenDecisions) Decide(ctx context.Context, id string, f func(approval.Request) (approval.Decision, error)) error {
	if b.decide != nil {
		return b.decide(ctx, id, f)
	}
	return b.MemoryStore.Decide(ctx, id, f)
}

func (b *brokenDecisions) Await(ctx context.Context, id string) (approval.Decision, error) {
	if b.await != nil {
		return b.await(ctx, id)
	}
	return b.MemoryStore.Await(ctx, id)
}

func TestTestDecisionStoreFailsBrokenStores(t *testing.T) {
	for _, tc := range []struct {
		name  string
		store func(s *approval.MemoryStore) approval.DecisionStore
		fails []string
	}{
		{"decides outside the store's lock", func(s *approval.MemoryStore) approval.DecisionStore {
			return &brokenDecisions{MemoryStore: s, decide: func(ctx context.Context, id string, f func(approval.Request) (approval.Decision, error)) error {
				r, err := s.Get(ctx, id)
				if err != nil {
					return err
				}
				d, err := f(r)
				if err != nil {
					return err
				}
				return s.Decide(ctx, id, func(approval.Request) (approval.Decision, error) { return d, nil })
			}}
		}, []string{"one of 32 concurrent decisions is delivered", "a second decision is ErrDecided and does not run decide"}},
		{"delivers when decide fails", func(s *approval.MemoryStore) approval.DecisionStore {
			return &brokenDecisions{MemoryStore: s, decide: func(ctx context.Context, id string, f func(approval.Request) (approval.Decision, error)) error {
				return s.Decide(ctx, id, func(r approval.Request) (approval.Decision, error) {
					d, err := f(r)
					if err != nil {
						return approval.Decision{Verdict: approval.VerdictDenied}, nil
					}
					return d, nil
				})
			}}
		}, []string{"a decide that fails delivers nothing"}},
		{"drops a decision when the wait ends", func(s *approval.MemoryStore) approval.DecisionStore {
			return &brokenDecisions{MemoryStore: s, await: func(ctx context.Context, id string) (approval.Decision, error) {
				d, err := s.Await(ctx, id)
				if ctx.Err() != nil {
					return approval.Decision{}, ctx.Err()
				}
				return d, err
			}}
		}, []string{"a delivered decision is never lost to a wait that ends"}},
		{"keeps a request whose wait ended", func(s *approval.MemoryStore) approval.DecisionStore {
			return &brokenDecisions{MemoryStore: s, await: func(ctx context.Context, id string) (approval.Decision, error) {
				r, _ := s.Get(context.Background(), id)
				d, err := s.Await(ctx, id)
				if err != nil {
					_ = s.Add(context.Background(), r)
				}
				return d, err
			}}
		}, []string{"Await withdraws the request when its context ends"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := runConform(decisionChecks(), func(testing.TB) approval.DecisionStore { return tc.store(approval.NewMemoryStore()) })
			for _, name := range tc.fails {
				assert.Contains(t, got, name, "the broken implementation passed %q", name)
			}
		})
	}
	assert.Empty(t, runConform(decisionChecks(), func(testing.TB) approval.DecisionStore { return approval.NewMemoryStore() }))
}
