package consumer

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// RootModule, OTLPModule and PGStateModule are the modules a consumer
// module replaces with this checkout.
const (
	RootModule = "github.com/mcpkit-go/mcpkit"
	OTLPModule = "github.com/mcpkit-go/mcpkit/serve/otlp"
	// PGStateModule is the fleet's PostgreSQL state (pgx).
	PGStateModule = "github.com/mcpkit-go/mcpkit/pgstate"
)

// CheckoutRoot returns the root of this checkout from the tests module's
// directory (dir is a package directory inside it), checking that it is the
// root module.
func CheckoutRoot(dir string) (string, error) {
	for d, _ := filepath.Abs(dir); ; d = filepath.Dir(d) {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && strings.HasPrefix(string(data), "module "+RootModule+"\n") {
			return d, nil
		}
		if d == filepath.Dir(d) {
			return "", fmt.Errorf("no go.mod of module %s above %s", RootModule, dir)
		}
	}
}

// GoTimeout bounds one go command. A build with a cold build cache on a
// loaded two-core machine can take minutes; on CI, after go vet compiled
// the dependencies, it takes seconds.
const GoTimeout = 8 * time.Minute

// Module is a Go module in a temporary directory, outside the workspace,
// that requires this checkout through replace directives.
type Module struct {
	Dir, Root string
	// Timeout bounds each go command (default GoTimeout).
	Timeout time.Duration
}

// NewModule runs go mod init in dir and points the mcpkit modules at the
// checkout at root. go.sum starts with the checkout's own sums, so that
// resolving needs no checksum database: the module cache (filled by go mod
// download in CI) is enough.
func NewModule(ctx context.Context, dir, root, path string) (*Module, error) {
	m := &Module{Dir: dir, Root: root, Timeout: GoTimeout}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if _, err := m.Go(ctx, "mod", "init", path); err != nil {
		return nil, err
	}
	if _, err := m.Go(ctx, "mod", "edit",
		"-replace="+RootModule+"="+root,
		"-replace="+OTLPModule+"="+filepath.Join(root, "serve", "otlp"),
		"-replace="+PGStateModule+"="+filepath.Join(root, "pgstate")); err != nil {
		return nil, err
	}
	sums := map[string]bool{}
	for _, f := range []string{filepath.Join(root, "go.sum"), filepath.Join(root, "serve", "otlp", "go.sum"), filepath.Join(root, "pgstate", "go.sum")} {
		data, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			return nil, err
		}
		for _, l := range strings.Split(string(data), "\n") {
			if l != "" {
				sums[l] = true
			}
		}
	}
	lines := slices.Sorted(maps.Keys(sums))
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		return nil, err
	}
	return m, nil
}

// Write writes a file of the module, creating its directory.
func (m *Module) Write(rel, content string) error {
	p := filepath.Join(m.Dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, []byte(content), 0o644)
}

// Go runs the go command in the module with the workspace off, as a
// consumer runs it, and returns its combined output; a failure's error
// holds the output.
func (m *Module) Go(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, m.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = m.Dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-buildvcs=false", "GOTOOLCHAIN=local")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		return out.String(), fmt.Errorf("go %s: timed out after %v:\n%s", strings.Join(args, " "), m.Timeout, out.String())
	}
	if err != nil {
		return out.String(), fmt.Errorf("go %s: %v:\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String(), nil
}
