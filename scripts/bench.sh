#!/usr/bin/env bash
# Runs the side-by-side benchmarks (bare go-sdk vs mcpkit in the same run)
# and summarises them with benchstat when it is installed
# (go install golang.org/x/perf/cmd/benchstat@latest).
#
# BENCH selects benchmarks (default: all), PKGS the packages (default:
# ./...), COUNT the runs of each (default 6), BENCHTIME each run's
# -benchtime (default 1s), OUT the raw output file.
# The realistic-payload comparison the README's table comes from:
#
#   BENCH=Payload PKGS=./tests/benchmarks/ BENCHTIME=3s scripts/bench.sh   # 1/6/64 KB results, in memory and HTTP at 1/8/64 clients
#   BENCH=RedactResult PKGS=./audit/ scripts/bench.sh   # redaction alone, beside json.Valid on the same bytes
#
# Each mcpkit variant reports x-bare (time over the bare SDK's, same run)
# and x-bare-calls/s (throughput over the bare SDK's); the payload
# benchmarks alternate the two in blocks within one benchmark
# (tests/benchmarks/interleave_test.go).
#
# The COUNT runs are interleaved: each is one `go test -count 1` over every
# selected benchmark, so the bare SDK and mcpkit alternate and a burst of
# load on a shared machine falls on both, not on six runs of one of them.
set -euo pipefail
cd "$(dirname "$0")/.."
count="${COUNT:-6}"
out="${OUT:-bench.out}"
: >"$out"
for _ in $(seq "$count"); do
  go test -run '^$' -bench "${BENCH:-.}" -benchtime "${BENCHTIME:-1s}" -benchmem -count 1 -timeout 60m ${PKGS:-./... ./examples/... ./tests/...} | tee -a "$out"
done
benchstat_bin="$(command -v benchstat || true)"
if [ -z "$benchstat_bin" ] && [ -x "$(go env GOPATH)/bin/benchstat" ]; then
  benchstat_bin="$(go env GOPATH)/bin/benchstat"
fi
if [ -n "$benchstat_bin" ]; then
  "$benchstat_bin" "$out"
fi
