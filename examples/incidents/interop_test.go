package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestInteropTypeScriptClient runs the official TypeScript SDK client
// (examples/incidents/interop, installed with npm ci) against the built
// example. It skips when node or the npm packages are missing, unless
// MCPKIT_REQUIRE_INTEROP is set (as in CI).
func TestInteropTypeScriptClient(t *testing.T) {
	if testing.Short() {
		t.Skip("runs node and the built example")
	}
	node, err := exec.LookPath("node")
	_, statErr := os.Stat(filepath.Join("interop", "node_modules", "@modelcontextprotocol", "sdk"))
	if err != nil || statErr != nil {
		if os.Getenv("MCPKIT_REQUIRE_INTEROP") != "" {
			t.Fatalf("node or interop/node_modules missing (run npm ci in examples/incidents/interop): %v %v", err, statErr)
		}
		t.Skip("node or examples/incidents/interop/node_modules missing; run npm ci there")
	}
	bin := buildExample(t)
	cmd := exec.Command(node, "--test", "--test-reporter=spec")
	cmd.Dir = "interop"
	cmd.Env = append(os.Environ(), "INCIDENTS_BIN="+bin, "INTEROP_TMP="+t.TempDir())
	out, err := cmd.CombinedOutput()
	t.Logf("node --test:\n%s", out)
	if err != nil {
		t.Fatalf("interop tests failed: %v", err)
	}
}
