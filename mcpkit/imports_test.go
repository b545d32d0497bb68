package mcpkit_test

import (
	"encoding/json"
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

// libraryRequirements is every module the root go.mod may require
// directly: what library packages and their tests need. A team that
// depends on mcpkit inherits this list in its module graph, so adding to it
// needs a reason (write it beside the entry).
var libraryRequirements = map[string]string{
	"github.com/diegoholiveira/jsonlogic/v3": "flagd targeting rules (flag file provider)",
	"github.com/fsnotify/fsnotify":           "flag file live reload",
	"github.com/twmb/murmur3":                "flagd fractional rollout buckets",
	"github.com/google/jsonschema-go":        "schema validation, the SDK's own validator",
	"github.com/invopop/jsonschema":          "schemas from Go types",
	"github.com/lestrrat-go/jwx/v3":          "JWT and JWKS",
	"github.com/modelcontextprotocol/go-sdk": "the MCP SDK itself",
	"github.com/open-feature/go-sdk":         "feature flags",
	"github.com/segmentio/encoding":          "fast JSON decoding on the transport's pre-check",
	"github.com/stretchr/testify":            "tests",
	"go.opentelemetry.io/otel":               "telemetry API",
	"go.opentelemetry.io/otel/log":           "telemetry API (logs)",
	"go.opentelemetry.io/otel/metric":        "telemetry API (metrics)",
	"go.opentelemetry.io/otel/trace":         "telemetry API (traces)",
	"go.opentelemetry.io/otel/sdk":           "tests: in-memory span recorder",
	"go.opentelemetry.io/otel/sdk/log":       "tests: in-memory log recorder",
	"go.opentelemetry.io/otel/sdk/metric":    "tests: manual metric reader",
	"golang.org/x/text":                      "Unicode normalisation of approver subjects",
	"golang.org/x/time":                      "rate limits",
}

// neverRequired are modules the root go.mod must not list even
// indirectly: they belong to the examples and tests modules.
var neverRequired = []string{
	"github.com/jackc/pgx",
	"github.com/chromedp",
	"go.opentelemetry.io/otel/exporters",
	"go.opentelemetry.io/proto",
	"google.golang.org/grpc",
	"google.golang.org/protobuf",
	"go.uber.org/goleak",
}

// TestRootModuleRequirements keeps the root go.mod lean: its direct
// requirements are the library's needs and nothing else, and no example or
// test-only module appears in it at all.
func TestRootModuleRequirements(t *testing.T) {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	require.NoError(t, err)
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	cmd := exec.Command("go", "mod", "edit", "-json", filepath.Join(root, "go.mod"))
	out, err := cmd.Output()
	require.NoError(t, err)
	var mod struct {
		Module  struct{ Path string }
		Require []struct {
			Path     string
			Indirect bool
		}
	}
	require.NoError(t, json.Unmarshal(out, &mod))
	require.Equal(t, "github.com/mcpkit-go/mcpkit", mod.Module.Path, "GOMOD must be the root module's go.mod")
	for _, r := range mod.Require {
		for _, bad := range neverRequired {
			if strings.HasPrefix(r.Path, bad) {
				t.Errorf("root go.mod requires %s; it belongs in the examples or tests module", r.Path)
			}
		}
		if _, ok := libraryRequirements[r.Path]; !ok && !r.Indirect {
			t.Errorf("root go.mod requires %s directly: add it to libraryRequirements with the reason a library package needs it, or move its user to the examples or tests module", r.Path)
		}
	}
}
