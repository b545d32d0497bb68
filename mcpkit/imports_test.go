package mcpkit_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// exampleOnly are dependencies a library package must never pull in: a team
// that imports mcpkit brings its own database driver and telemetry SDK.
var exampleOnly = []string{
	"github.com/jackc/pgx",
	"go.opentelemetry.io/otel/sdk",
	"go.opentelemetry.io/otel/exporters",
	"go.opentelemetry.io/proto",
	"google.golang.org/grpc",
	"github.com/chromedp",
	"github.com/stretchr/testify",
	"go.uber.org/goleak",
}

// TestLibraryPackagesImportNoExampleOnlyDependency walks the non-test
// dependency graph of every package outside examples/.
func TestLibraryPackagesImportNoExampleOnlyDependency(t *testing.T) {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	require.NoError(t, err)
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	cmd := exec.Command("go", "list", "-deps=false", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, "./...")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.Contains(fields[0], "/examples/") {
			continue
		}
		checked++
		for _, dep := range fields[1:] {
			for _, bad := range exampleOnly {
				if strings.HasPrefix(dep, bad) {
					t.Errorf("library package %s depends on %s; keep it in examples/ or tests", fields[0], dep)
				}
			}
		}
	}
	require.Positive(t, checked, "no library packages were checked")
}
