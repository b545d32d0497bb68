package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"os/user"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// transportFeature serves over stdio as the local user.
func transportFeature() feature {
	var scopes string
	return feature{
		name: "transport",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&scopes, "scopes", strings.Join(AllScopes, ","), "comma-separated scopes granted to the local user on stdio")
		},
		setup: func(ctx context.Context, e *env) ([]mcpkit.Option, func(context.Context) error, error) {
			return []mcpkit.Option{mcpkit.WithDefaultIdentity(localIdentity(splitList(scopes)))}, nil, nil
		},
	}
}

// serve runs srv over stdio until stdin closes or ctx is cancelled.
func serve(ctx context.Context, srv *mcpkit.Server, e *env) error {
	e.logger.Info("serving MCP over stdio", "server", "postgres", "version", version)
	t := &mcp.IOTransport{Reader: io.NopCloser(e.stdin), Writer: nopWriteCloser{e.stdout}}
	err := srv.MCPServer().Run(ctx, t)
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, io.EOF) {
		e.logger.Info("stopped")
		return nil
	}
	return err
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

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
