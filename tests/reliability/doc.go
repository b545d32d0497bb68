// Package reliability holds mcpkit's soak and fault-injection tests; it has
// no code of its own. Every test runs a real mcpkit server (audit to a
// hash-chained file, the flag gate, the approval gate, the streamable HTTP
// transport with authentication) and real go-sdk clients over 127.0.0.1.
//
// The soak test (TestSoak) makes N calls from 100 concurrent clients with a
// mix of valid calls, invalid arguments, calls to a tool switched off by a
// flag, calls needing approval (approved and denied), calls to an unknown
// tool, calls without the scope, and clients with a bad token. It then
// checks one final audit record per call made, per outcome; one audit
// record per HTTP refusal; an intact chain; no goroutine left behind; and
// the heap back near where it started. N is 10,000 under plain go test (less
// with the race detector) and 100,000 with MCPKIT_SOAK=full
// (scripts/soak.sh).
//
// The fault tests (faults_test.go, sigterm_test.go) break one dependency
// at a time while calls run: the audit sink (write errors, and a full disk
// in a child process under RLIMIT_FSIZE), the flag file, the JWKS server,
// the approval store, and the process itself (SIGTERM under load). Each
// asserts the fail-closed behaviour the package docs promise and that the
// server serves again once the fault clears.
package reliability
