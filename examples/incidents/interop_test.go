package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// Interop runs real third-party MCP software from npm (installed by `npm ci`
// in examples/incidents/interop) against the built example. Each piece
// skips when it is missing, unless MCPKIT_REQUIRE_INTEROP is set (as in CI),
// where missing software is a failure.

// Tokens in interop/tokens.json.
const (
	interopAdminToken  = "dev-interop-admin-0123456789abcdef"
	interopReaderToken = "dev-interop-reader-0123456789abcdef"
)

// interopTimeout bounds each node run (a normal one takes well under a
// minute; the v1 and v2 client tests together about 45 seconds on a loaded
// machine): the interop tests together stay under six minutes even when
// each run hangs until it is killed.
const interopTimeout = 120 * time.Second

// interopNeed skips (or, under MCPKIT_REQUIRE_INTEROP, fails) when a piece
// of the interop setup is missing.
func interopNeed(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("MCPKIT_REQUIRE_INTEROP") != "" {
		t.Fatalf("%v (run `npm ci` in examples/incidents/interop)", err)
	}
	t.Skipf("%v; run `npm ci` in examples/incidents/interop", err)
}

// interopPackage reports an error if the npm package is not installed.
func interopPackage(name string) error {
	if _, err := os.Stat(filepath.Join("interop", "node_modules", filepath.FromSlash(name), "package.json")); err != nil {
		return fmt.Errorf("npm package %s is not installed in interop/node_modules", name)
	}
	return nil
}

// buildInteropBinary compiles the example into a temporary directory.
func buildInteropBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "incidents")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("build the example: %v\n%s", err, out)
	}
	return bin
}

// startInteropServer runs the built example with -http on a free loopback
// port and the given flags, waits for /healthz, and stops it (SIGINT, then
// kill) when the test ends. It returns the base URL.
func startInteropServer(t *testing.T, bin string, args ...string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	args = append([]string{"-http", addr, "-audit", filepath.Join(t.TempDir(), "audit.jsonl")}, args...)
	cmd := exec.Command(bin, args...)
	// A file, not a pipe: the log survives for the failure message.
	logPath := filepath.Join(t.TempDir(), "server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	serverLog := func() string { b, _ := os.ReadFile(logPath); return string(b) }
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("server did not stop cleanly: %v", err)
			}
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			t.Error("server did not stop within 15s of SIGINT")
		}
		if t.Failed() {
			t.Logf("server stderr:\n%s", serverLog())
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("server exited before it was healthy: %v\n%s", err, serverLog())
		case <-time.After(25 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not healthy at %s/healthz within 15s\n%s", base, serverLog())
		}
	}
}

// runNode runs node with args in interop/, bounded by interopTimeout.
func runNode(t *testing.T, node string, env []string, args ...string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), interopTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Dir = "interop"
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return out, fmt.Errorf("node %v: still running after %s", args, interopTimeout)
	}
	return out, err
}

// TestInteropTypeScriptClient runs the official TypeScript SDK clients
// (interop/*.test.mjs) against the built example: the v1 client
// (@modelcontextprotocol/sdk) over stdio (a server per client) and over
// streamable HTTP with bearer tokens (tools listed, each called with valid
// and invalid arguments, an approval elicitation accepted and declined, a
// wrong token refused with 401, a missing scope with 403), and the v2
// client (@modelcontextprotocol/client) pinned to protocol 2026-07-28 on
// the same default handler (no session, approval as input_required, lists
// private and different per caller).
func TestInteropTypeScriptClient(t *testing.T) {
	if testing.Short() {
		t.Skip("runs node and the built example")
	}
	node, err := exec.LookPath("node")
	interopNeed(t, err)
	interopNeed(t, interopPackage("@modelcontextprotocol/sdk"))
	interopNeed(t, interopPackage("@modelcontextprotocol/client"))
	bin := buildInteropBinary(t)
	base := startInteropServer(t, bin, "-tokens", filepath.Join("interop", "tokens.json"))
	out, err := runNode(t, node, []string{
		"INCIDENTS_BIN=" + bin,
		"INTEROP_TMP=" + t.TempDir(),
		"INCIDENTS_URL=" + base + "/mcp",
		"INCIDENTS_ADMIN_TOKEN=" + interopAdminToken,
		"INCIDENTS_READER_TOKEN=" + interopReaderToken,
	}, "--test", "--test-reporter=spec", "--test-timeout=30000")
	t.Logf("node --test:\n%s", out)
	if err != nil {
		t.Fatalf("interop tests failed: %v", err)
	}
	// Every test ran: none skipped for want of its environment.
	if !regexp.MustCompile(`(?m)^\S* ?skipped 0$`).Match(out) {
		t.Fatal("some interop tests were skipped")
	}
}
