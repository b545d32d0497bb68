package main

import (
	"testing"

	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// TestClientConfigs: the Claude Code, Cursor and Cline configurations in
// clients/ parse strictly, pin this example at its version constant, pass
// only flags the example accepts, and take HTTP tokens from the
// environment.
func TestClientConfigs(t *testing.T) {
	err := mcpkittest.CheckClientConfigs("clients", "github.com/mcpkit-go/mcpkit/examples/incidents", serverConfig())
	if err != nil {
		t.Fatal(err)
	}
}
