// Package pgtest starts throwaway PostgreSQL clusters from the system's
// server binaries for tests (Debian: apt-get install -y postgresql). It
// needs no driver: callers connect with the URLs it returns.
//
// Without the binaries a test skips, unless MCPKIT_REQUIRE_POSTGRES=1 (CI
// sets it), which makes their absence a failure. A cluster can be stopped
// and started again on the same port and data, so a test can take the
// database away mid-run and bring it back.
package pgtest
