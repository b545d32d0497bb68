package consumer

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// libraryPackages is what a team imports from the root module.
var libraryPackages = []string{
	"github.com/mcpkit-go/mcpkit/mcpkit",
	"github.com/mcpkit-go/mcpkit/transport",
	"github.com/mcpkit-go/mcpkit/audit",
	"github.com/mcpkit-go/mcpkit/flags",
	"github.com/mcpkit-go/mcpkit/approval",
	"github.com/mcpkit-go/mcpkit/mcpkittest",
	"github.com/mcpkit-go/mcpkit/serve",
}

// heavyModules must not be in the module graph of a team that imports
// only the root module: a database driver, a browser driver, the OTLP
// exporters and gRPC belong to the examples, the tests module and
// serve/otlp.
var heavyModules = []string{
	"github.com/chromedp/",
	"github.com/jackc/pgx",
	"go.opentelemetry.io/otel/exporters/",
	"google.golang.org/grpc",
}

// TestConsumerModuleGraph imports every library package of the root
// module into a fresh module and lists its module graph (go list -m all):
// none of heavyModules may appear, even as an indirect requirement.
func TestConsumerModuleGraph(t *testing.T) {
	if testing.Short() {
		t.Skip("resolves a module with the go command; skipped with -short")
	}
	root, err := CheckoutRoot(".")
	require.NoError(t, err)
	ctx := context.Background() // each go command is bounded by GoTimeout
	m, err := NewModule(ctx, t.TempDir(), root, "example.com/consumer")
	require.NoError(t, err)
	var src strings.Builder
	src.WriteString("package main\n\nimport (\n")
	for _, p := range libraryPackages {
		src.WriteString("\t_ \"" + p + "\"\n")
	}
	src.WriteString(")\n\nfunc main() {}\n")
	require.NoError(t, m.Write("main.go", src.String()))
	_, err = m.Go(ctx, "mod", "tidy")
	require.NoError(t, err)
	out, err := m.Go(ctx, "list", "-m", "all")
	require.NoError(t, err)

	mods := strings.Split(strings.TrimSpace(out), "\n")
	// The graph is real: the library's own requirements are in it.
	require.Contains(t, out, "github.com/modelcontextprotocol/go-sdk ")
	require.Contains(t, out, RootModule+" v0.0.0-00010101000000-000000000000 => "+root)
	for _, mod := range mods {
		for _, heavy := range heavyModules {
			if strings.HasPrefix(mod, heavy) {
				t.Errorf("a module importing only the root module's packages has %s in its graph (go list -m all); it comes from the root go.mod's requirements (see go mod graph)", mod)
			}
		}
	}
	t.Logf("%d modules in a consumer's graph", len(mods))
}
