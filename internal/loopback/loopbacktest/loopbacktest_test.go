package loopbacktest_test

import (
	"net"
	"testing"
	"time"

	"github.com/mcpkit-go/mcpkit/internal/loopback"
	"github.com/mcpkit-go/mcpkit/internal/loopback/loopbacktest"
)

// The address is on loopback, nothing answers on it, and it can be
// listened on again.
func TestFreeAddr(t *testing.T) {
	addr := loopbacktest.FreeAddr(t)
	if !loopback.Addr(addr) {
		t.Fatalf("%s is not a loopback address", addr)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		_ = c.Close()
		t.Fatalf("something answers on %s", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("%s cannot be listened on: %v", addr, err)
	}
	_ = ln.Close()
}
