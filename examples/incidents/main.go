// Command incidents is a complete MCP server over an embedded, deterministic
// set of 50 incidents. It is the example a team copies: five typed tools with
// policies (read, write, destructive), each incident as a resource
// (incident://{id}, and incidents://index), a postmortem prompt, scopes
// enforced, audit, flags and approval wired, served over stdio or
// streamable HTTP.
//
//	go run ./examples/incidents                                   # stdio
//	go run ./examples/incidents -http 127.0.0.1:8080 -tokens FILE # HTTP
//
// The flags and their behaviour come from the serve package (OTLP export
// from serve/otlp); see RUNBOOK.md. It logs to stderr only; stdout carries nothing but the
// protocol. It exits cleanly when stdin closes or on SIGINT/SIGTERM.
package main

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/serve"
	"github.com/mcpkit-go/mcpkit/serve/otlp"
)

// version is the server version reported to clients and in audit records,
// and the version the client configurations in clients/ pin.
const version = "0.1.0"

// serverConfig is everything serve needs to know about this server; each
// run serves a fresh store.
func serverConfig() serve.Config {
	return serve.Config{
		Name:      "incidents",
		Title:     "Incidents",
		Version:   version,
		Scopes:    AllScopes,
		AuditFile: "incidents-audit.jsonl",
		// INCIDENTS_APPROVAL_KEYS, INCIDENTS_APPROVER_TOKENS.
		EnvPrefix: "INCIDENTS",
		// In the console, only a holder of incidents:approve and of the
		// tool's own scopes sees and decides a call (incidents:admin too
		// for delete_incident).
		Approvers: approval.ReviewerRule{Scopes: []string{ScopeApprove}, ToolScopes: true},
		Telemetry: otlp.FromEnv,
		// -shared-state URL or INCIDENTS_SHARED_STATE: run as one replica
		// of a fleet sharing PostgreSQL (RUNBOOK.md, "Running N replicas").
		SharedState: sharedState,
		Tools: func(srv *mcpkit.Server) error {
			store, err := NewStore(time.Now)
			if err != nil {
				return err
			}
			return register(srv, store)
		},
	}
}

func main() { serve.Main(serverConfig()) }

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return serve.Run(ctx, serverConfig(), args, serve.IO{Stdin: stdin, Stdout: stdout, Stderr: stderr})
}

// register adds everything the server offers over store: the tools, the
// incident resources and the postmortem prompt.
func register(srv *mcpkit.Server, store *Store) error {
	return errors.Join(registerTools(srv, store), registerResources(srv, store))
}

// newServer builds the incidents server over store, for tests that need
// the tools, resources and prompt without serve's features.
func newServer(store *Store, opts ...mcpkit.Option) (*mcpkit.Server, error) {
	srv, err := mcpkit.NewServer(&mcp.Implementation{Name: "incidents", Title: "Incidents", Version: version}, opts...)
	if err != nil {
		return nil, err
	}
	if err := register(srv, store); err != nil {
		return nil, err
	}
	return srv, nil
}
