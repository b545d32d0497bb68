package serve

import (
	"context"
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/transport"
)

// AuditRefusals is the HTTP handler option that puts every request the
// transport refuses before the server sees it (401, 403, 413, 429, 503, an
// undecodable tools/call) on a's record, as audit.Auditor.Refused
// describes. server names the server in the records. Servers run by serve
// have it already; use it when mounting transport.NewHandler yourself:
//
//	h, err := transport.NewHandler(srv, transport.WithAuthenticator(auth),
//		serve.AuditRefusals(auditor, srv.Implementation()))
func AuditRefusals(a *audit.Auditor, server *mcp.Implementation) transport.Option {
	return transport.WithRejectHook(func(r *http.Request, rej transport.Rejection) {
		_ = a.Refused(r.Context(), refusal(server, rej))
	})
}

// AuditStdioRefusals is AuditRefusals for transport.ServeStdio: a
// tools/call the server cannot decode is on the record too.
func AuditStdioRefusals(a *audit.Auditor, server *mcp.Implementation) transport.StdioOption {
	return transport.WithStdioRejectHook(func(ctx context.Context, rej transport.Rejection) {
		_ = a.Refused(ctx, refusal(server, rej))
	})
}

// refusal is the audit record's view of a transport rejection.
func refusal(server *mcp.Implementation, rej transport.Rejection) audit.Refusal {
	return audit.Refusal{
		Server: server, Status: rej.Status, Reason: rej.Reason, Tool: rej.Tool, Target: rej.Target,
		Identity: rej.Identity, Scope: len(rej.Missing) > 0, RateLimited: rej.RetryAfter > 0,
		Method: rej.Method, RequestID: rej.RequestID, SessionID: rej.SessionID, ProtocolVersion: rej.ProtocolVersion,
		Code: rej.Code, Message: rej.Message, Network: rej.Network,
	}
}
