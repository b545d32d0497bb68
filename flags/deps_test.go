package flags_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// fileProviderOnly are the modules behind the flagd file provider. A team
// that gates on another OpenFeature provider imports flags without them;
// only flags/flagdfile may pull them in.
var fileProviderOnly = []string{
	"github.com/diegoholiveira/jsonlogic",
	"github.com/fsnotify/fsnotify",
	"github.com/twmb/murmur3",
}

// TestGateDoesNotCompileTheFileProvider walks the non-test dependency graph
// of flags, and of flags/flagdfile to show that the walk sees them.
func TestGateDoesNotCompileTheFileProvider(t *testing.T) {
	deps := func(pkg string) []string {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		require.NoError(t, err, string(out))
		return strings.Fields(string(out))
	}
	uses := func(list []string, module string) bool {
		for _, d := range list {
			if d == module || strings.HasPrefix(d, module+"/") {
				return true
			}
		}
		return false
	}

	gate := deps("github.com/mcpkit-go/mcpkit/flags")
	require.Contains(t, gate, "github.com/open-feature/go-sdk/openfeature", "the walk must see the gate's own dependencies")
	for _, m := range fileProviderOnly {
		if uses(gate, m) {
			t.Errorf("flags depends on %s; it belongs to flags/flagdfile only", m)
		}
	}
	if uses(gate, "github.com/mcpkit-go/mcpkit/flags/flagdfile") {
		t.Error("flags imports flags/flagdfile; the file provider must stay optional")
	}

	provider := deps("github.com/mcpkit-go/mcpkit/flags/flagdfile")
	for _, m := range fileProviderOnly {
		require.True(t, uses(provider, m), "flags/flagdfile no longer uses %s: update fileProviderOnly", m)
	}
}
