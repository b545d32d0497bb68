package main

import (
	"context"
	"io"
	"path/filepath"
	"slices"
	"testing"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/serve"
)

// setUp sets the incidents server up over store as main does (serve.New
// with args: transport, audit, flags, approval), with id as the caller of
// in-memory connections and the audit file in a temporary directory unless
// args name one. The server is closed when the test ends; the returned
// close does it earlier (a second close is a no-op).
func setUp(t *testing.T, store *Store, id mcpkit.Identity, args ...string) (*mcpkit.Server, func(context.Context) error) {
	t.Helper()
	cfg := serverConfig()
	cfg.Tools = func(srv *mcpkit.Server) error { return register(srv, store) }
	cfg.Options = []mcpkit.Option{mcpkit.WithDefaultIdentity(id)}
	if !slices.Contains(args, "-audit") {
		args = append([]string{"-audit", filepath.Join(t.TempDir(), "incidents-audit.jsonl")}, args...)
	}
	s, err := serve.New(context.Background(), cfg, args, serve.IO{Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s.MCP(), s.Close
}
