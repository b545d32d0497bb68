package benchmarks

import "testing"

// BenchmarkInterleaveAA is the method's own check: the bare SDK against
// itself (two servers, two sessions) in alternating blocks, exactly as
// BenchmarkPayloadCall runs the bare SDK against mcpkit. Its x-bare is
// the noise floor of that comparison and should be 1 within it.
func BenchmarkInterleaveAA(b *testing.B) {
	out := incidents(6 << 10)
	interleave(b, memoryBlock, [2]func() error{
		memoryBlockOf(b, bareIncidents(b, out)),
		memoryBlockOf(b, bareIncidents(b, out)),
	})
}
