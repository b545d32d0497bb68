// Command incidents is a complete MCP server over an embedded, deterministic
// set of 50 incidents. It is the example a team copies: five typed tools with
// policies (read, write, destructive), scopes enforced, served over stdio.
//
//	go run ./examples/incidents
//
// It logs to stderr only; stdout carries nothing but the protocol. It exits
// cleanly when stdin closes or on SIGINT/SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"os/user"
	"strings"
	"syscall"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// version is the server version reported to clients and in audit records.
const version = "0.1.0"

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "incidents:", err)
		os.Exit(1)
	}
}

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("incidents", flag.ContinueOnError)
	fs.SetOutput(stderr)
	scopes := fs.String("scopes", strings.Join(AllScopes, ","), "comma-separated scopes granted to the local user on stdio")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	srv, err := newServer(localIdentity(splitList(*scopes)), logger, time.Now)
	if err != nil {
		return err
	}
	logger.Info("serving MCP over stdio", "server", "incidents", "version", version)
	err = srv.MCPServer().Run(ctx, &mcp.StdioTransport{})
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, io.EOF) {
		logger.Info("stopped")
		return nil
	}
	return err
}

// newServer builds the incidents server with the given default identity.
func newServer(id mcpkit.Identity, logger *slog.Logger, now func() time.Time, opts ...mcpkit.Option) (*mcpkit.Server, error) {
	store, err := NewStore(now)
	if err != nil {
		return nil, err
	}
	base := []mcpkit.Option{
		mcpkit.WithDefaultIdentity(id),
		mcpkit.WithGates(mcpkit.ScopeGate()),
		mcpkit.WithLogger(logger),
	}
	srv, err := mcpkit.NewServer(&mcp.Implementation{Name: "incidents", Title: "Incidents", Version: version}, append(base, opts...)...)
	if err != nil {
		return nil, err
	}
	if err := registerTools(srv, store); err != nil {
		return nil, err
	}
	return srv, nil
}

// localIdentity is the engineer running the server on their own machine.
func localIdentity(scopes []string) mcpkit.Identity {
	name := "local"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	return mcpkit.Identity{Subject: name, Scopes: scopes, AuthMethod: "local", Transport: "stdio"}
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
