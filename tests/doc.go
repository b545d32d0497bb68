// Package tests holds nothing itself: its directory is the root of the tests
// module (github.com/mcpkit-go/mcpkit/tests), where the suites live that need
// dependencies a library user must not inherit: benchmarks beside the bare
// go-sdk, the reliability suite, the console in a real browser and
// telemetry over real OTLP, and the incidents example run as a fleet of
// replicas sharing PostgreSQL (fleet).
package tests
