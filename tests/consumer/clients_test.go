package consumer

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// incidentsClients is the example's clients/ directory the README tells a
// team to copy.
const incidentsClients = "examples/incidents/clients"

var (
	// clientsPkgRE finds the import path the README's clients_test.go pins.
	clientsPkgRE = regexp.MustCompile(`CheckClientConfigs\("clients", "([^"]+)"`)
	// configFieldRE reads a string field of the README's serve.Config.
	configFieldRE = func(field string) *regexp.Regexp {
		return regexp.MustCompile(`(?m)^\s*` + field + `:\s*"([^"]+)"`)
	}
	incidentsPinRE = regexp.MustCompile(`github\.com/mcpkit-go/mcpkit/examples/incidents@v[0-9A-Za-z.+-]+`)
)

// consumerModulePath is the import path the README's clients_test.go pins
// the server at, which the consumer module must therefore have;
// "example.com/consumer" when the README has no such test.
func consumerModulePath(files []Block) string {
	for _, f := range files {
		if m := clientsPkgRE.FindStringSubmatch(f.Text); m != nil {
			return m[1]
		}
	}
	return "example.com/consumer"
}

// copyClients does what the README's step "copy clients/" says: the
// example's client files with the example's name, pin and token variable
// replaced by the consumer server's.
func copyClients(t *testing.T, m *Module, root, pkg string, files []Block) {
	t.Helper()
	var name, version string
	for _, f := range files {
		if mm := configFieldRE("Name").FindStringSubmatch(f.Text); mm != nil && name == "" {
			name = mm[1]
		}
		if mm := configFieldRE("Version").FindStringSubmatch(f.Text); mm != nil && version == "" {
			version = mm[1]
		}
	}
	require.NotEmpty(t, name, "the README's server has no Name: \"...\" field")
	require.NotEmpty(t, version, "the README's server has no Version: \"...\" field")
	src := filepath.Join(root, filepath.FromSlash(incidentsClients))
	copied := 0
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		body := incidentsPinRE.ReplaceAllString(string(data), pkg+"@v"+version)
		body = strings.ReplaceAll(body, "incidents", name)
		body = strings.ReplaceAll(body, "INCIDENTS", strings.ToUpper(name))
		copied++
		return m.Write(filepath.Join("clients", rel), body)
	})
	require.NoError(t, err)
	require.Positive(t, copied, "%s has no files", incidentsClients)
}

// runCopiedClientsTest runs the README's clients_test.go in the consumer
// module against the copied client files, then against one whose pin is
// a version behind: the copy must pass, and must fail on the stale pin.
func runCopiedClientsTest(ctx context.Context, t *testing.T, m *Module, root, pkg string, files []Block) {
	copyClients(t, m, root, pkg, files)
	out, err := m.Go(ctx, "test", "-count=1", "-run", "^TestClientConfigs$", "-v", ".")
	require.NoError(t, err, "the README's clients_test.go fails in a module of its own")
	require.Contains(t, out, "--- PASS: TestClientConfigs", "the copied test did not run:\n%s", out)

	claude := filepath.Join(m.Dir, "clients", "claude-code", ".mcp.json")
	data, err := os.ReadFile(claude)
	require.NoError(t, err)
	stale := strings.Replace(string(data), pkg+"@v", pkg+"@v0.0.0-stale+", 1)
	require.NotEqual(t, string(data), stale, "no pin of %s in %s", pkg, claude)
	require.NoError(t, os.WriteFile(claude, []byte(stale), 0o644))
	out, err = m.Go(ctx, "test", "-count=1", "-run", "^TestClientConfigs$", ".")
	require.Error(t, err, "the copied clients_test.go accepted a stale pin:\n%s", out)
	require.Contains(t, out, "want command go with args [run "+pkg+"@v", "the stale pin failed for another reason:\n%s", out)
	require.NoError(t, os.WriteFile(claude, data, 0o644))
}
