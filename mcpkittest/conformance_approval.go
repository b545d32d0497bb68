package mcpkittest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// TestReplayCache checks that the caches newCache returns meet the
// approval.ReplayCache contract: an id is fresh once, stays used until its
// time, is accepted exactly once however many goroutines race for it, and a
// done context refuses (fail closed). newCache is called once per subtest.
//
//	func TestRedisReplayCache(t *testing.T) {
//		mcpkittest.TestReplayCache(t, func(t testing.TB) approval.ReplayCache {
//			return newRedisReplayCache(t, redisAddr)
//		})
//	}
func TestReplayCache(t testing.TB, newCache func(t testing.TB) approval.ReplayCache) {
	t.Helper()
	conform(runnerFor(t), replayCacheChecks(), newCache)
}

func replayCacheChecks() []conformCheck[func(testing.TB) approval.ReplayCache] {
	type factory = func(testing.TB) approval.ReplayCache
	use := func(t testing.TB, c approval.ReplayCache, id string, until time.Time) bool {
		t.Helper()
		fresh, err := c.Use(context.Background(), id, until)
		if err != nil {
			t.Fatalf("Use(%q): %v", id, err)
		}
		return fresh
	}
	hour := func() time.Time { return time.Now().Add(time.Hour) }
	return []conformCheck[factory]{
		{"an unused id is fresh", func(t testing.TB, f factory) {
			if !use(t, f(t), randomID("state-"), hour()) {
				t.Error("Use of an id never used before returned false: every approval would be refused")
			}
		}},
		{"a used id is refused", func(t testing.TB, f factory) {
			c, id := f(t), randomID("state-")
			use(t, c, id, hour())
			for range 2 {
				if use(t, c, id, hour()) {
					t.Fatal("Use of an id already used returned true: an approval state can be replayed")
				}
			}
		}},
		{"ids are independent", func(t testing.TB, f factory) {
			c := f(t)
			use(t, c, randomID("state-"), hour())
			if !use(t, c, randomID("state-"), hour()) {
				t.Error("using one id made another one refused")
			}
		}},
		{"a used id stays refused until its time", func(t testing.TB, f factory) {
			c, id := f(t), randomID("state-")
			use(t, c, id, time.Now().Add(3*time.Second))
			time.Sleep(1200 * time.Millisecond)
			if use(t, c, id, hour()) {
				t.Error("an id used until 3s from then was fresh again after 1.2s: the cache does not keep ids until the time given")
			}
		}},
		{"one of 32 concurrent uses of an id is fresh", func(t testing.TB, f factory) {
			c := f(t)
			for round := range 5 {
				id := randomID("state-")
				var fresh, failed atomic.Int32
				together(concurrency, func(int) {
					ok, err := c.Use(context.Background(), id, hour())
					if err != nil {
						failed.Add(1)
					}
					if ok {
						fresh.Add(1)
					}
				})
				if n := fresh.Load(); n != 1 {
					t.Fatalf("round %d: %d of %d concurrent uses of one id were fresh, want exactly 1 (%d errors): Use is not atomic", round, n, concurrency, failed.Load())
				}
			}
		}},
		{"concurrent uses of distinct ids are all fresh", func(t testing.TB, f factory) {
			c := f(t)
			var fresh atomic.Int32
			together(concurrency, func(int) {
				if ok, err := c.Use(context.Background(), randomID("state-"), hour()); err == nil && ok {
					fresh.Add(1)
				}
			})
			if n := fresh.Load(); n != concurrency {
				t.Errorf("%d of %d concurrent uses of distinct ids were fresh", n, concurrency)
			}
		}},
		{"a done context is refused with its error", func(t testing.TB, f factory) {
			c, id := f(t), randomID("state-")
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			fresh, err := c.Use(ctx, id, hour())
			if fresh {
				t.Fatal("Use with a done context reported the id fresh: it must refuse (fail closed)")
			}
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Use with a done context returned %v, want an error wrapping context.Canceled", err)
			}
		}},
	}
}

// TestStore checks that the stores newStore returns meet the approval.Store
// contract: a request comes back exactly as added (the principal and the
// tool's scopes, which approver rules and the four-eyes check read, above
// all) and without its call; unknown ids are approval.ErrNotFound; List is
// oldest first; Remove is idempotent; what a store returns shares nothing
// with what it holds; concurrent adds and removes lose nothing; and a done
// context is refused. newStore is called once per subtest and must return
// an empty store.
func TestStore(t testing.TB, newStore func(t testing.TB) approval.Store) {
	t.Helper()
	conform(runnerFor(t), storeChecks(), newStore)
}

// sampleRequest is a request with every stored field set. Times are whole
// milliseconds, which every database keeps.
func sampleRequest(created time.Time) approval.Request {
	created = created.Truncate(time.Millisecond)
	return approval.Request{
		ID:    randomID("req-"),
		Tool:  "delete_incident",
		Title: "Delete incident",
		Principal: mcpkit.Identity{Subject: "alice", Email: "alice@example.com", Groups: []string{"sre", "oncall"},
			Scopes: []string{"incidents:write"}, ClientName: "agent", ClientVersion: "1.2.3", AuthMethod: "jwt", Transport: "http"},
		Arguments:  json.RawMessage(`{"id":"INC-7","note":"[REDACTED]"}`),
		ToolScopes: []string{"incidents:admin", "incidents:write"},
		Summary:    "Delete incident INC-7",
		Rule:       "always",
		Created:    created,
		Deadline:   created.Add(5 * time.Minute),
		ConsoleURL: "https://approvals.example.com/",
	}
}

// sameRequest says how got differs from want, or "" when it does not.
func sameRequest(got, want approval.Request) string {
	if !got.Created.Equal(want.Created) || !got.Deadline.Equal(want.Deadline) {
		return fmt.Sprintf("times %v..%v, want %v..%v", got.Created, got.Deadline, want.Created, want.Deadline)
	}
	if got.Call != nil {
		return "Call is set: a store never holds the live call"
	}
	var ga, wa any
	if json.Unmarshal(got.Arguments, &ga) != nil || json.Unmarshal(want.Arguments, &wa) != nil {
		return fmt.Sprintf("arguments %s, want %s", got.Arguments, want.Arguments)
	}
	g, w := got, want
	g.Created, g.Deadline, g.Arguments, w.Created, w.Deadline, w.Arguments, w.Call = time.Time{}, time.Time{}, nil, time.Time{}, time.Time{}, nil, nil
	gj, _ := json.Marshal(g)
	wj, _ := json.Marshal(w)
	if string(gj) != string(wj) || fmt.Sprint(ga) != fmt.Sprint(wa) {
		return fmt.Sprintf("got %s %s\nwant %s %s", gj, got.Arguments, wj, want.Arguments)
	}
	return ""
}

func storeChecks() []conformCheck[func(testing.TB) approval.Store] {
	type factory = func(testing.TB) approval.Store
	bg := context.Background()
	must := func(t testing.TB, err error, what string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	ids := func(rs []approval.Request) []string {
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = r.ID
		}
		return out
	}
	return []conformCheck[factory]{
		{"a request comes back as added, without its call", func(t testing.TB, f factory) {
			s, want := f(t), sampleRequest(time.Now())
			in := want
			in.Call = &mcpkit.Call{}
			must(t, s.Add(bg, in), "Add")
			got, err := s.Get(bg, want.ID)
			must(t, err, "Get")
			if d := sameRequest(got, want); d != "" {
				t.Errorf("Get returned another request than was added (approver rules and the four-eyes check read it): %s", d)
			}
			list, err := s.List(bg)
			must(t, err, "List")
			if len(list) != 1 {
				t.Fatalf("List returned %d requests, want the 1 added", len(list))
			}
			if d := sameRequest(list[0], want); d != "" {
				t.Errorf("List returned another request than was added: %s", d)
			}
		}},
		{"an unknown id is ErrNotFound", func(t testing.TB, f factory) {
			_, err := f(t).Get(bg, randomID("req-"))
			if !errors.Is(err, approval.ErrNotFound) {
				t.Errorf("Get of an unknown id returned %v, want an error wrapping approval.ErrNotFound (the console answers 404 on it)", err)
			}
		}},
		{"an empty store lists nothing", func(t testing.TB, f factory) {
			list, err := f(t).List(bg)
			must(t, err, "List")
			if len(list) != 0 {
				t.Errorf("a new store lists %d requests: %v", len(list), ids(list))
			}
		}},
		{"List is oldest first, then by id", func(t testing.TB, f factory) {
			s := f(t)
			base := time.Now().Add(-time.Hour)
			var want []approval.Request
			for i := range 4 {
				want = append(want, sampleRequest(base.Add(time.Duration(i)*time.Second)))
			}
			tie := sampleRequest(base.Add(2 * time.Second))
			want = append(want, tie)
			slices.SortFunc(want, func(a, b approval.Request) int {
				if c := a.Created.Compare(b.Created); c != 0 {
					return c
				}
				if a.ID < b.ID {
					return -1
				}
				return 1
			})
			for _, i := range []int{3, 0, 4, 2, 1} {
				must(t, s.Add(bg, want[i]), "Add")
			}
			list, err := s.List(bg)
			must(t, err, "List")
			if !slices.Equal(ids(list), ids(want)) {
				t.Errorf("List order %v, want %v (oldest first, ties by id)", ids(list), ids(want))
			}
		}},
		{"Add replaces a request with the same id", func(t testing.TB, f factory) {
			s, r := f(t), sampleRequest(time.Now())
			must(t, s.Add(bg, r), "Add")
			r.Summary = "Delete incident INC-8"
			must(t, s.Add(bg, r), "Add again")
			got, err := s.Get(bg, r.ID)
			must(t, err, "Get")
			list, lerr := s.List(bg)
			must(t, lerr, "List")
			if got.Summary != r.Summary || len(list) != 1 {
				t.Errorf("after adding the same id twice: Get has %q, List has %d requests; want the second request once", got.Summary, len(list))
			}
		}},
		{"Remove deletes, and removing an unknown id is not an error", func(t testing.TB, f factory) {
			s, r, other := f(t), sampleRequest(time.Now()), sampleRequest(time.Now())
			must(t, s.Add(bg, r), "Add")
			must(t, s.Add(bg, other), "Add")
			must(t, s.Remove(bg, r.ID), "Remove")
			if _, err := s.Get(bg, r.ID); !errors.Is(err, approval.ErrNotFound) {
				t.Errorf("Get after Remove returned %v, want ErrNotFound: a decided request would stay decidable", err)
			}
			list, err := s.List(bg)
			must(t, err, "List")
			if !slices.Equal(ids(list), []string{other.ID}) {
				t.Errorf("List after removing one of two: %v, want [%s]", ids(list), other.ID)
			}
			if err := s.Remove(bg, r.ID); err != nil {
				t.Errorf("removing an id twice: %v (two replicas may both remove a request)", err)
			}
			if err := s.Remove(bg, randomID("req-")); err != nil {
				t.Errorf("removing an unknown id: %v", err)
			}
		}},
		{"what the store returns shares nothing with what it holds", func(t testing.TB, f factory) {
			s, want := f(t), sampleRequest(time.Now())
			in := want
			in.ToolScopes, in.Principal.Scopes = slices.Clone(want.ToolScopes), slices.Clone(want.Principal.Scopes)
			in.Arguments = slices.Clone(want.Arguments)
			must(t, s.Add(bg, in), "Add")
			in.ToolScopes[0], in.Principal.Scopes[0], in.Arguments[2] = "changed", "changed", 'X'
			got, err := s.Get(bg, want.ID)
			must(t, err, "Get")
			if d := sameRequest(got, want); d != "" {
				t.Fatalf("changing the caller's request after Add changed the stored one: %s", d)
			}
			got.ToolScopes[0], got.Principal.Scopes[0] = "changed", "changed"
			list, err := s.List(bg)
			must(t, err, "List")
			list[0].ToolScopes[0] = "changed too"
			again, err := s.Get(bg, want.ID)
			must(t, err, "Get")
			if d := sameRequest(again, want); d != "" {
				t.Errorf("changing a request Get or List returned changed the stored one: %s", d)
			}
		}},
		{"32 concurrent adds and removes lose nothing", func(t testing.TB, f factory) {
			s := f(t)
			reqs := make([]approval.Request, concurrency)
			for i := range reqs {
				reqs[i] = sampleRequest(time.Now().Add(time.Duration(i) * time.Millisecond))
			}
			var failed atomic.Int32
			together(concurrency, func(i int) {
				if s.Add(bg, reqs[i]) != nil {
					failed.Add(1)
				}
			})
			list, err := s.List(bg)
			must(t, err, "List")
			if len(list) != concurrency || failed.Load() != 0 {
				t.Fatalf("after %d concurrent adds List has %d requests (%d adds failed)", concurrency, len(list), failed.Load())
			}
			together(concurrency, func(i int) {
				if _, err := s.Get(bg, reqs[i].ID); err != nil {
					failed.Add(1)
				}
				if s.Remove(bg, reqs[i].ID) != nil {
					failed.Add(1)
				}
			})
			list, err = s.List(bg)
			must(t, err, "List")
			if len(list) != 0 || failed.Load() != 0 {
				t.Errorf("after %d concurrent gets and removes List has %d requests (%d calls failed)", concurrency, len(list), failed.Load())
			}
		}},
		{"a done context is refused with its error", func(t testing.TB, f factory) {
			s, r := f(t), sampleRequest(time.Now())
			ctx, cancel := context.WithCancel(bg)
			cancel()
			if err := s.Add(ctx, r); !errors.Is(err, context.Canceled) {
				t.Errorf("Add with a done context returned %v, want an error wrapping context.Canceled", err)
			}
			if _, err := s.Get(bg, r.ID); !errors.Is(err, approval.ErrNotFound) {
				t.Errorf("Add with a done context stored the request (Get: %v)", err)
			}
			must(t, s.Add(bg, r), "Add")
			if _, err := s.Get(ctx, r.ID); !errors.Is(err, context.Canceled) {
				t.Errorf("Get with a done context returned %v, want an error wrapping context.Canceled", err)
			}
			if _, err := s.List(ctx); !errors.Is(err, context.Canceled) {
				t.Errorf("List with a done context returned %v, want an error wrapping context.Canceled", err)
			}
			if err := s.Remove(ctx, r.ID); !errors.Is(err, context.Canceled) {
				t.Errorf("Remove with a done context returned %v, want an error wrapping context.Canceled", err)
			}
		}},
	}
}
