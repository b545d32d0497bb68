package pgstate

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpkit-go/mcpkit/approval"
)

// BenchmarkReplayCacheUse measures approval-state checks against
// PostgreSQL: each op is one Use of a fresh id (the INSERT every accepted
// state costs), from parallel goroutines sharing one pool, as the requests
// of one replica do.
//
//	go test -run '^$' -bench ReplayCacheUse -benchtime 5s ./pgstate/
func BenchmarkReplayCacheUse(b *testing.B) {
	db := migrated(b)
	c := newReplay(b, db)
	ctx := context.Background()
	until := time.Now().Add(time.Hour)
	var seq atomic.Int64
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			fresh, err := c.Use(ctx, "bench-"+strconv.FormatInt(seq.Add(1), 36), until)
			if err != nil || !fresh {
				b.Errorf("Use = %v, %v", fresh, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "uses/s")
}

// BenchmarkReplayCacheReplay measures refusing a replayed state (the
// conflict path).
func BenchmarkReplayCacheReplay(b *testing.B) {
	db := migrated(b)
	c := newReplay(b, db)
	ctx := context.Background()
	until := time.Now().Add(time.Hour)
	if _, err := c.Use(ctx, "replayed", until); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if fresh, err := c.Use(ctx, "replayed", until); err != nil || fresh {
				b.Errorf("replay Use = %v, %v", fresh, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "uses/s")
}

// BenchmarkStoreDecision measures one console approval across two
// replicas: the owner adds the request, a reviewer's replica decides it
// (row lock, conditional UPDATE, NOTIFY), and the owner's Await returns
// it (notification, poll query, withdrawal). Parallel, as many calls wait
// at once.
//
//	go test -run '^$' -bench StoreDecision -benchtime 3s ./pgstate/
func BenchmarkStoreDecision(b *testing.B) {
	db := migrated(b)
	owner, reviewer := newStore(b, db), newStore(b, replica(b, db))
	ctx := context.Background()
	var seq atomic.Int64
	approve := func(approval.Request) (approval.Decision, error) {
		return approval.Decision{Verdict: approval.VerdictApproved, Approver: "bob", At: time.Now()}, nil
	}
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := "bench-" + strconv.FormatInt(seq.Add(1), 36)
			now := time.Now()
			if err := owner.Add(ctx, approval.Request{ID: id, Tool: "t", Created: now, Deadline: now.Add(time.Minute)}); err != nil {
				b.Error(err)
				return
			}
			if err := reviewer.Decide(ctx, id, approve); err != nil {
				b.Error(err)
				return
			}
			if d, err := owner.Await(ctx, id); err != nil || d.Approver != "bob" {
				b.Errorf("Await = %+v, %v", d, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "decisions/s")
}
