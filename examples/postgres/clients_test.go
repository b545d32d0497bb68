package main

import (
	"testing"

	"github.com/mcpkit-go/mcpkit/examples/internal/clientconfig"
)

// TestClientConfigs: the Claude Code, Cursor and Cline configurations in
// clients/ parse strictly, pin this example at its version constant, pass
// only flags the example accepts, and take HTTP tokens from the
// environment.
func TestClientConfigs(t *testing.T) {
	if err := clientconfig.CheckClientConfigs("clients", newApp(nil).serverConfig()); err != nil {
		t.Fatal(err)
	}
}
