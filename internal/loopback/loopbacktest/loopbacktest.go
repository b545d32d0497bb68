// Package loopbacktest is for tests only: addresses on 127.0.0.1 for a
// server a test starts, or for an endpoint that must be down. No library
// package imports it.
package loopbacktest

import (
	"net"
	"testing"
)

// FreeAddr returns a 127.0.0.1 address (host:port) that nothing listens
// on: the port was free a moment ago. A test passes it to a server that
// listens itself (-http ADDR), or dials it to reach an endpoint that is
// down.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("loopbacktest: listen on 127.0.0.1: %v", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatalf("loopbacktest: close the listener on %s: %v", addr, err)
	}
	return addr
}
