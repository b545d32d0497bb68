package benchmarks

import (
	"runtime/metrics"
	"testing"
	"time"
)

// interleave runs the bare SDK (variants[0]) and mcpkit (variants[1]) in
// alternating blocks of the same work, calls calls each, the order
// swapped every iteration, and reports per call for each: wall time,
// process CPU time and allocations, and mcpkit's ratios to the bare SDK.
//
// Why not two sub-benchmarks: measured here, the same code runs up to 25%
// faster or slower depending on what ran before it in the process (heap
// size and GC pacing, caches, a neighbour's load on a shared machine).
// Alternating blocks gives both variants the same conditions. The CPU
// time and allocations of a block are the process's during it, so the
// background GC work one variant's garbage causes can fall in the other's
// block; mcpkit allocates less than the bare SDK, so this sharing counts
// against it.
func interleave(b *testing.B, calls int, variants [2]func() error) {
	var wall, cpu [2]time.Duration
	var objects, bytes [2]uint64
	blocks := 0
	samples := []metrics.Sample{{Name: "/gc/heap/allocs:objects"}, {Name: "/gc/heap/allocs:bytes"}}
	run := func(v int) {
		metrics.Read(samples)
		o0, b0 := samples[0].Value.Uint64(), samples[1].Value.Uint64()
		c0 := processCPU()
		t0 := time.Now()
		if err := variants[v](); err != nil {
			b.Fatal(err)
		}
		wall[v] += time.Since(t0)
		cpu[v] += processCPU() - c0
		metrics.Read(samples)
		objects[v] += samples[0].Value.Uint64() - o0
		bytes[v] += samples[1].Value.Uint64() - b0
	}
	for b.Loop() {
		first := blocks % 2
		run(first)
		run(1 - first)
		blocks++
	}
	n := float64(blocks * calls)
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / n }
	for v, name := range []string{"bare", "mcpkit"} {
		b.ReportMetric(per(wall[v]), name+"-ns/call")
		b.ReportMetric(per(cpu[v]), name+"-cpu-ns/call")
		b.ReportMetric(float64(objects[v])/n, name+"-allocs/call")
		b.ReportMetric(float64(bytes[v])/n, name+"-B/call")
	}
	b.ReportMetric(float64(wall[1])/float64(wall[0]), "x-bare")
	b.ReportMetric(float64(wall[0])/float64(wall[1]), "x-bare-calls/s")
	if cpu[0] > 0 {
		b.ReportMetric(float64(cpu[1])/float64(cpu[0]), "x-bare-cpu")
	}
}
