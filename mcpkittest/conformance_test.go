package mcpkittest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/audit"
)

// Every implementation in the repository meets its contract.

func TestMemoryReplayCacheConforms(t *testing.T) {
	TestReplayCache(t, func(testing.TB) approval.ReplayCache { return approval.NewMemoryReplayCache(0) })
}

func TestMemoryStoreConforms(t *testing.T) {
	TestDecisionStore(t, func(testing.TB) approval.DecisionStore { return approval.NewMemoryStore() })
}

// readFileRecords reads the call records of an audit file.
func readFileRecords(path string) ([]audit.Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []audit.Record
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r audit.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, err
		}
		if r.Kind == "" {
			out = append(out, r)
		}
	}
	return out, sc.Err()
}

func TestFileSinkConforms(t *testing.T) {
	TestSink(t, func(t testing.TB) SinkUnderTest {
		path := filepath.Join(t.TempDir(), "audit.jsonl")
		s, err := audit.Open(path, audit.WithInsecureNoKey())
		require.NoError(t, err)
		t.Cleanup(func() { _ = s.Close(context.Background()) })
		return SinkUnderTest{Sink: s, Records: func() ([]audit.Record, error) { return readFileRecords(path) }}
	})
}

func TestAsyncSinkConforms(t *testing.T) {
	TestSink(t, func(t testing.TB) SinkUnderTest {
		mem := &memorySink{}
		a := must(audit.NewAsync(mem, audit.WithQueueSize(8)))
		t.Cleanup(func() { _ = a.Close(context.Background()) })
		return SinkUnderTest{Sink: a, Records: mem.records}
	})
}

func TestSlogSinkConforms(t *testing.T) {
	TestSink(t, func(t testing.TB) SinkUnderTest {
		var mu sync.Mutex
		var buf []byte
		w := writerFunc(func(p []byte) (int, error) {
			mu.Lock()
			defer mu.Unlock()
			buf = append(buf, p...)
			return len(p), nil
		})
		sink := audit.SlogSink(slog.New(slog.NewJSONHandler(w, nil)))
		return SinkUnderTest{Sink: sink, Records: func() ([]audit.Record, error) {
			mu.Lock()
			defer mu.Unlock()
			var out []audit.Record
			for _, line := range splitLines(buf) {
				var l struct {
					ID        string          `json:"id"`
					Tool      string          `json:"tool"`
					Outcome   string          `json:"outcome"`
					Arguments string          `json:"arguments"`
					Principal audit.Principal `json:"principal"`
				}
				if err := json.Unmarshal(line, &l); err != nil {
					return nil, err
				}
				out = append(out, audit.Record{ID: l.ID, Tool: l.Tool, Outcome: l.Outcome, Principal: l.Principal, Arguments: json.RawMessage(l.Arguments)})
			}
			return out, nil
		}}
	})
}

func TestFileWitnessConforms(t *testing.T) {
	TestWitness(t, func(t testing.TB) WitnessUnderTest {
		path := filepath.Join(t.TempDir(), "witness.jsonl")
		w, err := audit.NewFileWitness(path)
		require.NoError(t, err)
		t.Cleanup(func() { _ = w.Close() })
		return WitnessUnderTest{Witness: w, Checkpoints: func() ([]audit.Checkpoint, error) { return audit.ReadCheckpoints(path) }}
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func splitLines(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		i := slices.Index(b, '\n')
		if i < 0 {
			return append(out, b)
		}
		out = append(out, b[:i])
		b = b[i+1:]
	}
	return out
}

// memorySink keeps records in memory: the destination behind an Async.
type memorySink struct {
	mu   sync.Mutex
	recs []audit.Record
}

func (m *memorySink) Write(_ context.Context, r *audit.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs = append(m.recs, *r)
	return nil
}

func (m *memorySink) records() ([]audit.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.recs), nil
}

// The conformance functions fail, on the named property, for an
// implementation that breaks it.

// runConform runs checks on the fake runner and returns the names of the
// failed ones.
func runConform[T any](checks []conformCheck[T], arg T) []string {
	r := &fakeRunner{results: map[string]*fakeTB{}}
	conform(r, checks, arg)
	var failed []string
	for name, tb := range r.results {
		if tb.failed {
			failed = append(failed, name)
		}
	}
	slices.Sort(failed)
	return failed
}

// Broken replay caches.

type cacheFunc func(ctx context.Context, id string, until time.Time) (bool, error)

func (f cacheFunc) Use(ctx context.Context, id string, until time.Time) (bool, error) {
	return f(ctx, id, until)
}

// racyCache checks and records under separate locks.
func racyCache() approval.ReplayCache {
	var mu sync.Mutex
	used := map[string]bool{}
	return cacheFunc(func(ctx context.Context, id string, _ time.Time) (bool, error) {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		mu.Lock()
		seen := used[id]
		mu.Unlock()
		if seen {
			return false, nil
		}
		time.Sleep(time.Millisecond)
		mu.Lock()
		used[id] = true
		mu.Unlock()
		return true, nil
	})
}

// shortCache forgets an id after 300ms whatever its time.
func shortCache() approval.ReplayCache {
	inner := approval.NewMemoryReplayCache(0)
	return cacheFunc(func(ctx context.Context, id string, _ time.Time) (bool, error) {
		return inner.Use(ctx, id, time.Now().Add(300*time.Millisecond))
	})
}

func TestTestReplayCacheFailsBrokenCaches(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cache func() approval.ReplayCache
		fails []string
	}{
		{"always fresh", func() approval.ReplayCache {
			return cacheFunc(func(context.Context, string, time.Time) (bool, error) { return true, nil })
		}, []string{"a done context is refused with its error", "a used id is refused", "a used id stays refused until its time", "one of 32 concurrent uses of an id is fresh"}},
		{"check then set", racyCache, []string{"one of 32 concurrent uses of an id is fresh"}},
		{"forgets before the time given", shortCache, []string{"a used id stays refused until its time"}},
		{"ignores the context", func() approval.ReplayCache {
			inner := approval.NewMemoryReplayCache(0)
			return cacheFunc(func(_ context.Context, id string, until time.Time) (bool, error) {
				return inner.Use(context.Background(), id, until)
			})
		}, []string{"a done context is refused with its error"}},
		{"one id for all", func() approval.ReplayCache {
			inner := approval.NewMemoryReplayCache(0)
			return cacheFunc(func(ctx context.Context, _ string, until time.Time) (bool, error) {
				return inner.Use(ctx, "the-only-id", until)
			})
		}, []string{"concurrent uses of distinct ids are all fresh", "ids are independent"}},
		{"full: refuses everything with an error", func() approval.ReplayCache {
			return cacheFunc(func(context.Context, string, time.Time) (bool, error) { return false, errors.New("full") })
		}, []string{"a done context is refused with its error", "a used id is refused", "a used id stays refused until its time",
			"an unused id is fresh", "concurrent uses of distinct ids are all fresh", "ids are independent", "one of 32 concurrent uses of an id is fresh"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := runConform(replayCacheChecks(), func(testing.TB) approval.ReplayCache { return tc.cache() })
			for _, name := range tc.fails {
				assert.Contains(t, got, name, "the broken implementation passed %q", name)
			}
		})
	}
	assert.Empty(t, runConform(replayCacheChecks(), func(testing.TB) approval.ReplayCache { return approval.NewMemoryReplayCache(0) }))
}

// Broken stores: the memory store with one method replaced.

type brokenStore struct {
	approval.Store
	add    func(ctx context.Context, r approval.Request) error
	get    func(ctx context.Context, id string) (approval.Request, error)
	list   func(ctx context.Context) ([]approval.Request, error)
	remove func(ctx context.Context, id string) error
}

func (b *brokenStore) Add(ctx context.Context, r approval.Request) error {
	if b.add != nil {
		return b.add(ctx, r)
	}
	return b.Store.Add(ctx, r)
}

func (b *brokenStore) Get(ctx context.Context, id string) (approval.Request, error) {
	if b.get != nil {
		return b.get(ctx, id)
	}
	return b.Store.Get(ctx, id)
}

func (b *brokenStore) List(ctx context.Context) ([]approval.Request, error) {
	if b.list != nil {
		return b.list(ctx)
	}
	return b.Store.List(ctx)
}

func (b *brokenStore) Remove(ctx context.Context, id string) error {
	if b.remove != nil {
		return b.remove(ctx, id)
	}
	return b.Store.Remove(ctx, id)
}

// sharingStore hands out the slices it holds.
type sharingStore struct {
	mu   sync.Mutex
	reqs map[string]approval.Request
}

func (s *sharingStore) Add(_ context.Context, r approval.Request) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r.Call = nil
	s.reqs[r.ID] = r
	return nil
}

func (s *sharingStore) Get(_ context.Context, id string) (approval.Request, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.reqs[id]
	if !ok {
		return r, approval.ErrNotFound
	}
	return r, nil
}

func (s *sharingStore) List(context.Context) ([]approval.Request, error) { return nil, nil }
func (s *sharingStore) Remove(context.Context, string) error             { return nil }

func TestTestStoreFailsBrokenStores(t *testing.T) {
	ctxErr := "a done context is refused with its error"
	for _, tc := range []struct {
		name  string
		store func(s approval.Store) approval.Store
		fails []string
	}{
		{"loses the principal", func(s approval.Store) approval.Store {
			return &brokenStore{Store: s, add: func(ctx context.Context, r approval.Request) error {
				r.Principal.Subject = ""
				return s.Add(ctx, r)
			}}
		}, []string{"a request comes back as added, without its call"}},
		{"loses the tool's scopes", func(s approval.Store) approval.Store {
			return &brokenStore{Store: s, add: func(ctx context.Context, r approval.Request) error {
				r.ToolScopes = r.ToolScopes[:1]
				return s.Add(ctx, r)
			}}
		}, []string{"a request comes back as added, without its call"}},
		{"keeps the call", func(s approval.Store) approval.Store {
			var mu sync.Mutex
			calls := map[string]approval.Request{}
			return &brokenStore{Store: s,
				add: func(ctx context.Context, r approval.Request) error {
					mu.Lock()
					calls[r.ID] = r
					mu.Unlock()
					return s.Add(ctx, r)
				},
				get: func(ctx context.Context, id string) (approval.Request, error) {
					r, err := s.Get(ctx, id)
					mu.Lock()
					r.Call = calls[id].Call
					mu.Unlock()
					return r, err
				}}
		}, []string{"a request comes back as added, without its call"}},
		{"unknown id is another error", func(s approval.Store) approval.Store {
			return &brokenStore{Store: s, get: func(ctx context.Context, id string) (approval.Request, error) {
				r, err := s.Get(ctx, id)
				if errors.Is(err, approval.ErrNotFound) {
					err = errors.New("no rows")
				}
				return r, err
			}}
		}, []string{"Remove deletes, and removing an unknown id is not an error", ctxErr, "an unknown id is ErrNotFound"}},
		{"lists newest first", func(s approval.Store) approval.Store {
			return &brokenStore{Store: s, list: func(ctx context.Context) ([]approval.Request, error) {
				l, err := s.List(ctx)
				slices.Reverse(l)
				return l, err
			}}
		}, []string{"List is oldest first, then by id"}},
		{"removing an unknown id fails", func(s approval.Store) approval.Store {
			return &brokenStore{Store: s, remove: func(ctx context.Context, id string) error {
				if _, err := s.Get(ctx, id); err != nil {
					return err
				}
				return s.Remove(ctx, id)
			}}
		}, []string{"Remove deletes, and removing an unknown id is not an error"}},
		{"remove does nothing", func(s approval.Store) approval.Store {
			return &brokenStore{Store: s, remove: func(ctx context.Context, id string) error { return ctx.Err() }}
		}, []string{"32 concurrent adds and removes lose nothing", "Remove deletes, and removing an unknown id is not an error"}},
		{"ignores the context", func(s approval.Store) approval.Store {
			bg := context.Background()
			return &brokenStore{Store: s,
				add:    func(_ context.Context, r approval.Request) error { return s.Add(bg, r) },
				get:    func(_ context.Context, id string) (approval.Request, error) { return s.Get(bg, id) },
				list:   func(context.Context) ([]approval.Request, error) { return s.List(bg) },
				remove: func(_ context.Context, id string) error { return s.Remove(bg, id) }}
		}, []string{ctxErr}},
		{"adds lose each other", func(s approval.Store) approval.Store {
			var mu sync.Mutex
			var held []approval.Request
			return &brokenStore{Store: s,
				add: func(ctx context.Context, r approval.Request) error {
					mu.Lock()
					cur := slices.Clone(held)
					mu.Unlock()
					time.Sleep(time.Millisecond)
					mu.Lock()
					held = append(cur, r)
					mu.Unlock()
					return s.Add(ctx, r)
				},
				list: func(ctx context.Context) ([]approval.Request, error) {
					if err := ctx.Err(); err != nil {
						return nil, err
					}
					mu.Lock()
					defer mu.Unlock()
					var out []approval.Request
					for _, r := range held {
						if _, err := s.Get(ctx, r.ID); err == nil {
							out = append(out, r)
						}
					}
					return out, nil
				}}
		}, []string{"32 concurrent adds and removes lose nothing"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := runConform(storeChecks(), func(testing.TB) approval.Store { return tc.store(approval.NewMemoryStore()) })
			for _, name := range tc.fails {
				assert.Contains(t, got, name, "the broken implementation passed %q", name)
			}
		})
	}
	t.Run("shares its slices", func(t *testing.T) {
		got := runConform(storeChecks(), func(testing.TB) approval.Store {
			s := &sharingStore{reqs: map[string]approval.Request{}}
			return &brokenStore{Store: s, list: approval.NewMemoryStore().List}
		})
		assert.Contains(t, got, "what the store returns shares nothing with what it holds")
	})
	assert.Empty(t, runConform(storeChecks(), func(testing.TB) approval.Store { return approval.NewMemoryStore() }))
}

// Broken sinks: a memory sink with one behaviour broken.

type brokenSink struct {
	mem    *memorySink
	mu     sync.Mutex
	n      int
	closed bool
	write  func(s *brokenSink, ctx context.Context, r *audit.Record) error
}

func (b *brokenSink) Write(ctx context.Context, r *audit.Record) error { return b.write(b, ctx, r) }

func (b *brokenSink) Close(context.Context) error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	return nil
}

// honest is the memory sink's write, refusing a done ctx and a closed
// sink.
func honest(b *brokenSink, ctx context.Context, r *audit.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return audit.ErrClosed
	}
	return b.mem.Write(ctx, r)
}

func TestTestSinkFailsBrokenSinks(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(b *brokenSink, ctx context.Context, r *audit.Record) error
		fails []string
	}{
		{"drops every other record", func(b *brokenSink, ctx context.Context, r *audit.Record) error {
			b.mu.Lock()
			b.n++
			drop := b.n%2 == 0
			b.mu.Unlock()
			if drop {
				return nil
			}
			return honest(b, ctx, r)
		}, []string{"32 concurrent writers lose and duplicate nothing", "Close delivers everything and later writes fail",
			"written records arrive once, in order, with their fields"}},
		{"changes the record", func(b *brokenSink, ctx context.Context, r *audit.Record) error {
			err := honest(b, ctx, r)
			r.Result = nil
			return err
		}, []string{"Write changes nothing but the chain fields"}},
		{"writers lose each other's records", func(b *brokenSink, ctx context.Context, r *audit.Record) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			b.mem.mu.Lock()
			cur := slices.Clone(b.mem.recs)
			b.mem.mu.Unlock()
			time.Sleep(time.Millisecond)
			b.mem.mu.Lock()
			b.mem.recs = append(cur, *r)
			b.mem.mu.Unlock()
			return nil
		}, []string{"32 concurrent writers lose and duplicate nothing"}},
		{"keeps a record it refused", func(b *brokenSink, ctx context.Context, r *audit.Record) error {
			_ = b.mem.Write(ctx, r)
			return ctx.Err()
		}, []string{"Close delivers everything and later writes fail", "an error means the record was not taken"}},
		{"takes records after Close", func(b *brokenSink, ctx context.Context, r *audit.Record) error {
			return b.mem.Write(ctx, r)
		}, []string{"Close delivers everything and later writes fail"}},
		{"writes duplicates", func(b *brokenSink, ctx context.Context, r *audit.Record) error {
			_ = honest(b, ctx, r)
			return honest(b, ctx, r)
		}, []string{"32 concurrent writers lose and duplicate nothing", "written records arrive once, in order, with their fields"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := runConform(sinkChecks(), func(testing.TB) SinkUnderTest {
				b := &brokenSink{mem: &memorySink{}, write: tc.write}
				return SinkUnderTest{Sink: b, Records: b.mem.records}
			})
			for _, name := range tc.fails {
				assert.Contains(t, got, name, "the broken implementation passed %q", name)
			}
		})
	}
	assert.Empty(t, runConform(sinkChecks(), func(testing.TB) SinkUnderTest {
		b := &brokenSink{mem: &memorySink{}, write: honest}
		return SinkUnderTest{Sink: b, Records: b.mem.records}
	}))
}

// Broken witnesses.

type brokenWitness struct {
	mu     sync.Mutex
	kept   []audit.Checkpoint
	closed bool
	keep   func(w *brokenWitness, ctx context.Context, c audit.Checkpoint) error
}

func (w *brokenWitness) Checkpoint(ctx context.Context, c audit.Checkpoint) error {
	return w.keep(w, ctx, c)
}

func (w *brokenWitness) Close() error {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	return nil
}

func (w *brokenWitness) checkpoints() ([]audit.Checkpoint, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.kept), nil
}

func honestWitness(w *brokenWitness, ctx context.Context, c audit.Checkpoint) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return audit.ErrClosed
	}
	w.kept = append(w.kept, c)
	return nil
}

func TestTestWitnessFailsBrokenWitnesses(t *testing.T) {
	for _, tc := range []struct {
		name  string
		keep  func(w *brokenWitness, ctx context.Context, c audit.Checkpoint) error
		fails []string
	}{
		{"drops the signature", func(w *brokenWitness, ctx context.Context, c audit.Checkpoint) error {
			c.MAC = ""
			return honestWitness(w, ctx, c)
		}, []string{"behind a keyed file sink the kept checkpoints verify the log", "checkpoints are kept in order with every field"}},
		{"keeps the first checkpoint only", func(w *brokenWitness, ctx context.Context, c audit.Checkpoint) error {
			w.mu.Lock()
			n := len(w.kept)
			w.mu.Unlock()
			if n > 0 {
				return nil
			}
			return honestWitness(w, ctx, c)
		}, []string{"behind a keyed file sink the kept checkpoints verify the log", "checkpoints are kept in order with every field"}},
		{"keeps a checkpoint it refused", func(w *brokenWitness, ctx context.Context, c audit.Checkpoint) error {
			_ = honestWitness(w, context.Background(), c)
			return ctx.Err()
		}, []string{"an error means the checkpoint was not kept"}},
		{"keeps checkpoints after Close", func(w *brokenWitness, ctx context.Context, c audit.Checkpoint) error {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.kept = append(w.kept, c)
			return nil
		}, []string{"a closed witness refuses checkpoints"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := runConform(witnessChecks(), func(testing.TB) WitnessUnderTest {
				w := &brokenWitness{keep: tc.keep}
				return WitnessUnderTest{Witness: w, Checkpoints: w.checkpoints}
			})
			for _, name := range tc.fails {
				assert.Contains(t, got, name, "the broken implementation passed %q", name)
			}
		})
	}
	assert.Empty(t, runConform(witnessChecks(), func(testing.TB) WitnessUnderTest {
		w := &brokenWitness{keep: honestWitness}
		return WitnessUnderTest{Witness: w, Checkpoints: w.checkpoints}
	}))
}

// On a testing.TB other than *testing.T the checks run in turn: each
// failure reaches the parent prefixed with the property's name, a skipped
// property fails nothing, and every property runs after a failure.
func TestConformanceOnAnyTB(t *testing.T) {
	parent := &fakeTB{name: "parent"}
	done := make(chan struct{})
	go func() {
		defer close(done)
		TestStore(parent, func(testing.TB) approval.Store {
			s := approval.NewMemoryStore()
			return &brokenStore{Store: s, list: func(ctx context.Context) ([]approval.Request, error) {
				l, err := s.List(ctx)
				slices.Reverse(l)
				return l, err
			}}
		})
	}()
	<-done
	require.True(t, parent.failed)
	require.Len(t, parent.messages, 1, "%v", parent.messages)
	assert.Regexp(t, `^List is oldest first, then by id: List order \[.*\], want \[.*\] \(oldest first, ties by id\)$`, parent.messages[0])

	parent = &fakeTB{name: "parent"}
	done = make(chan struct{})
	go func() {
		defer close(done)
		TestSink(parent, func(testing.TB) SinkUnderTest {
			mem := &memorySink{}
			return SinkUnderTest{Sink: mem, Records: mem.records}
		})
	}()
	<-done
	assert.False(t, parent.failed, "%v", parent.messages)
	assert.Equal(t, []string{"Close delivers everything and later writes fail: the sink is not an audit.Closer"}, parent.messages)
}
