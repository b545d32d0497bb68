package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConformanceClassifiesAPolicyChange changes resolve_incident's
// approval in a temporary copy of this package and runs the copy's
// conformance test as CI would: the failure names the change and its
// category, a plain -update refuses to write, and -update
// -accept=security-review writes the goldens with the change recorded in
// POLICY.md.
func TestConformanceClassifiesAPolicyChange(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a copy of the package")
	}
	dir := copyPackage(t)
	tools := filepath.Join(dir, "tools.go")
	src, err := os.ReadFile(tools)
	require.NoError(t, err)
	const reviewed = `Approval: mcpkit.ApprovalWhen("severity == 1", func(in ResolveIn) bool {
					inc, ok := store.Get(in.ID)
					return ok && inc.Severity == 1
				})},`
	require.Equal(t, 1, bytes.Count(src, []byte(reviewed)), "resolve_incident's approval rule is not where this test expects it")
	changed := bytes.Replace(src, []byte(reviewed), []byte(`Approval: mcpkit.ApprovalNever()},`), 1)
	require.NoError(t, os.WriteFile(tools, changed, 0o644))
	surface, err := os.ReadFile(filepath.Join(dir, "testdata", "surface.json"))
	require.NoError(t, err)
	policy, err := os.ReadFile(filepath.Join(dir, "POLICY.md"))
	require.NoError(t, err)

	const line = "resolve_incident: approval loosened from when severity == 1 to never (security review)"
	out, err := goTest(t, dir)
	require.Error(t, err, "the changed copy passed its conformance test:\n%s", out)
	assert.Contains(t, out, "testdata/surface.json is out of date: the tool surface changed (1 change(s), most severe: security review):\n")
	assert.Contains(t, out, "  "+line+"\n")
	assert.Contains(t, out, "accept with go test -run TestConformance -update -accept=security-review")

	out, err = goTest(t, dir, "-update")
	require.Error(t, err, "an unacknowledged update passed:\n%s", out)
	assert.Contains(t, out, "not updated: the change needs an explicit acknowledgement (security-review)")
	assertUnchanged(t, filepath.Join(dir, "testdata", "surface.json"), surface)
	assertUnchanged(t, filepath.Join(dir, "POLICY.md"), policy)

	out, err = goTest(t, dir, "-update", "-accept=security-review")
	require.NoError(t, err, out)
	md, err := os.ReadFile(filepath.Join(dir, "POLICY.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "## Changes since the last reviewed version\n")
	assert.Contains(t, string(md), "- `resolve_incident`: approval loosened from when severity == 1 to never (security review)\n")
	assert.FileExists(t, filepath.Join(dir, "testdata", "surface.changes.json"))

	out, err = goTest(t, dir)
	require.NoError(t, err, "after the accepted update the copy must pass:\n%s", out)
}

// copyPackage copies what this package's conformance test needs into a
// directory under testdata, so that it builds in this module without a
// go.mod of its own (the go command ignores testdata in ./... patterns).
func copyPackage(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("testdata", "conformance-copy-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	entries, err := os.ReadDir(".")
	require.NoError(t, err)
	for _, e := range entries {
		name := e.Name()
		keep := (strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go")) ||
			name == "conformance_test.go" || name == "incidents.json" || name == "POLICY.md"
		if e.IsDir() || !keep {
			continue
		}
		copyFile(t, name, filepath.Join(dir, name))
	}
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "testdata"), 0o755))
	copyFile(t, filepath.Join("testdata", "surface.json"), filepath.Join(dir, "testdata", "surface.json"))
	abs, err := filepath.Abs(dir)
	require.NoError(t, err)
	return abs
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(to, b, 0o644))
}

// goTest runs the copy's conformance test and returns its output.
func goTest(t *testing.T, dir string, flags ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	args := append([]string{"test", "-count=1", "-run", "^TestConformance$", "."}, flags...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "MCPKIT_ACCEPT=")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func assertUnchanged(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got), "%s was rewritten by an unacknowledged update", path)
}
