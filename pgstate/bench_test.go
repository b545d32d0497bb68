package pgstate

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
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
