package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/serve"
	"github.com/mcpkit-go/mcpkit/transport"
)

// mountMCP is everything the team added to serve MCP: an mcpkit server
// over the existing OrderStore, audited into a file and into the service's
// own OpenTelemetry providers, authenticated by the service's own API keys,
// on the service's own mux.
func (s *Service) mountMCP(mux *http.ServeMux) error {
	file, err := audit.Open(s.cfg.AuditPath, audit.WithKeyring(s.cfg.AuditKeys), audit.WithFileLogger(s.log),
		audit.WithServerInfo(serviceName, version), audit.WithWitness(audit.OTelWitness(s.cfg.Telemetry.Logs)))
	if err != nil {
		return err
	}
	// The file is the write-ahead record; the OTel log copy sits behind a
	// queue so that a slow collector never slows a call.
	logs, err := audit.NewAsync(audit.OTelLogSink(s.cfg.Telemetry.Logs))
	if err != nil {
		return err
	}
	s.sink = audit.Fanout(file, logs)
	s.auditor, err = audit.New(s.sink, audit.WithLogger(s.log),
		audit.WithTracerProvider(s.cfg.Telemetry.Traces), audit.WithMeterProvider(s.cfg.Telemetry.Metrics))
	if err != nil {
		return err
	}

	elicit, err := approval.Elicit(approval.ElicitConfig{Keys: s.cfg.ApprovalKeys,
		Hint: "Cancel it in the orders admin UI instead, or use an MCP client that supports elicitation."})
	if err != nil {
		return err
	}
	gate, err := approval.New(elicit, approval.WithTimeout(2*time.Minute),
		approval.WithSummary("cancel_order", "{{.Principal.Subject}} wants to cancel order {{.Input.ID}}: {{.Input.Reason}}"))
	if err != nil {
		return err
	}

	srv, err := mcpkit.NewServer(&mcp.Implementation{Name: serviceName, Version: version},
		// calls.Middleware first: it sees a call end only after the audit
		// record is written, which is what shutdown waits for.
		mcpkit.WithMiddleware(s.calls.Middleware(), s.auditor.Middleware()),
		mcpkit.WithGates(mcpkit.ScopeGate()),
		mcpkit.WithInnerMiddleware(gate),
		mcpkit.WithLogger(s.log))
	if err != nil {
		return err
	}
	s.auditor.Instrument(srv.MCPServer()) // spans and metrics for every MCP method
	if err := addTools(srv, s.cfg.Orders); err != nil {
		return err
	}

	s.mcp, err = transport.NewHandler(srv,
		// The service's existing API keys, not a new auth system.
		transport.WithAuthenticator(transport.AuthenticatorFunc(s.identity)),
		// Stateless: any replica behind the load balancer answers, and
		// shutdown waits only for calls, never for idle streams.
		transport.WithStateless(), transport.WithJSONResponse(),
		transport.WithLogger(s.log),
		transport.WithReadiness(func(ctx context.Context) error {
			_, err := s.cfg.Orders.List(ctx, "", 1)
			return err
		}),
		// Requests refused before any tool runs are on the record too.
		serve.AuditRefusals(s.auditor, srv.Implementation()))
	if err != nil {
		return err
	}
	s.mcp.Register(mux) // /mcp, /.well-known/oauth-protected-resource/mcp, /healthz, /readyz
	return nil
}

// identity maps the service's API keys to the caller mcpkit sees: the key's
// principal becomes the subject, its team a group, its permissions the
// scopes the tools' policies ask for.
func (s *Service) identity(_ context.Context, key string) (mcpkit.Identity, error) {
	p, ok := s.cfg.Keys.Lookup(key)
	if !ok {
		return mcpkit.Identity{}, fmt.Errorf("%w: unknown API key", transport.ErrInvalidToken)
	}
	return mcpkit.Identity{Subject: p.Name, Groups: []string{p.Team}, Scopes: p.Permissions, AuthMethod: "api_key"}, nil
}
