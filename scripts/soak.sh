#!/usr/bin/env bash
# Runs the full soak (100 clients, 100,000 calls over streamable HTTP on
# 127.0.0.1) without the race detector and prints its figures: calls and
# records per second, records per kind, heap before, at the end of the load
# and after teardown. MCPKIT_SOAK=full is what selects the full size.
set -euo pipefail
cd "$(dirname "$0")/.."
MCPKIT_SOAK=full go test -count=1 -timeout 20m -run '^TestSoak$' -v ./tests/reliability/ 2>&1 |
  grep -E 'soak_test.go|^(--- |ok|FAIL|PASS)' | sed -E 's/^ +soak_test\.go:[0-9]+: //'
