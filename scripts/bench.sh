#!/usr/bin/env bash
# Runs the side-by-side benchmarks (bare go-sdk vs mcpkit in the same run)
# and summarises them with benchstat when it is installed
# (go install golang.org/x/perf/cmd/benchstat@latest).
set -euo pipefail
cd "$(dirname "$0")/.."
count="${COUNT:-6}"
out="${OUT:-bench.out}"
go test -run '^$' -bench "${BENCH:-.}" -benchmem -count "$count" ./... | tee "$out"
if command -v benchstat >/dev/null 2>&1; then
  benchstat "$out"
fi
