package pgstate

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpkit-go/mcpkit/ratelimit"
)

// The limiter benchmarks measure decisions against PostgreSQL: each op is
// one Allow that is decided by the database (a generous limit, so every
// call is allowed and writes its bucket; a refusal is remembered in memory
// and would measure nothing). Serial is one caller's latency; Parallel is
// one replica's throughput over its pool; Contended is every goroutine on
// one key (one row lock).
//
//	go test -run '^$' -bench Limiter -benchtime 3s ./pgstate/
func BenchmarkLimiterSerial(b *testing.B) {
	l := newLimiter(b, migrated(b))
	ctx := context.Background()
	limit := ratelimit.Limit{Events: 1_000_000, Per: time.Second}
	keys := benchKeys()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if d, err := l.Allow(ctx, keys[i%len(keys)], limit); err != nil || !d.Allowed {
			b.Fatalf("Allow = %+v, %v", d, err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}

func BenchmarkLimiterParallel(b *testing.B) {
	benchParallel(b, benchKeys())
}

func BenchmarkLimiterContended(b *testing.B) {
	benchParallel(b, []string{"class:read_only\x00mallory"})
}

func benchParallel(b *testing.B, keys []string) {
	db := migrated(b)
	warm(b, db)
	l := newLimiter(b, db)
	ctx := context.Background()
	limit := ratelimit.Limit{Events: 1_000_000_000, Per: time.Second}
	var seq atomic.Int64
	b.SetParallelism(4)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if d, err := l.Allow(ctx, keys[int(seq.Add(1))%len(keys)], limit); err != nil || !d.Allowed {
				b.Errorf("Allow = %+v, %v", d, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "decisions/s")
}

// benchKeys is 1000 callers' keys.
func benchKeys() []string {
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = "class:read_only\x00user-" + strconv.Itoa(i)
	}
	return keys
}
