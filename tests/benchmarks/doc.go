// Package benchmarks holds the side-by-side benchmarks of mcpkit against
// the bare go-sdk: each benchmark runs the bare SDK doing the same work in
// the same run and reports x-bare, mcpkit's cost over the SDK's. Run them
// with scripts/bench.sh; the README's Performance section lists the
// figures.
package benchmarks
