#!/usr/bin/env bash
# Runs every fuzz target for a bounded time each (FUZZTIME, default 15s).
# Targets are found by name: func FuzzXxx in *_test.go files.
#
# The Go fuzzing engine sometimes ends a run with a bare "context deadline
# exceeded" when -fuzztime runs out while a worker is busy; that reports no
# failing input. Such a run is retried, up to three tries in all; a run
# that writes a failing input (or ends on the deadline three times) fails
# the script.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-15s}"

fuzz_one() {
  local pkg="$1" target="$2" out
  out=$(mktemp)
  if go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -fuzzminimizetime 5s "$pkg" 2>&1 | tee "$out"; then
    rm -f "$out"
    return 0
  fi
  local try
  for try in 2 3; do
    if ! grep -q 'context deadline exceeded' "$out" || grep -q 'Failing input written to' "$out"; then
      rm -f "$out"
      return 1
    fi
    echo "fuzz: $pkg $target: engine deadline without a failing input; try $try of 3"
    if go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -fuzzminimizetime 5s "$pkg" 2>&1 | tee "$out"; then
      rm -f "$out"
      return 0
    fi
  done
  rm -f "$out"
  return 1
}

grep -rl --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]+\(f \*testing\.F\)' . | grep -v node_modules | sort | while read -r file; do
  pkg="./$(dirname "${file#./}")"
  grep -oE '^func Fuzz[A-Za-z0-9_]+' "$file" | sed 's/^func //' | while read -r target; do
    echo "fuzz: $pkg $target ($fuzztime)"
    fuzz_one "$pkg" "$target"
  done
done
