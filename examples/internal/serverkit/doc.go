// Package serverkit is the plumbing the example servers share, so that a
// second server is its tools, their policies and a main of about twenty
// lines:
//
//	func main() {
//		serverkit.Main(serverkit.Config{
//			Name: "tickets", Version: version, Scopes: AllScopes,
//		}, func(ctx context.Context, _ *slog.Logger, opts ...mcpkit.Option) (*mcpkit.Server, error) {
//			return newServer(opts...) // registers the tools
//		})
//	}
//
// Run parses one command line into four features, each a set of flags and
// the server options it contributes:
//
//   - transport: stdio as the local user (-scopes), or streamable HTTP at
//     /mcp (-http) with static development tokens (-tokens) or JWTs
//     (-jwks -issuer -audience), -stateless, -origins, and -no-auth for
//     loopback conformance runs only. Requests the transport refuses are
//     audited.
//   - audit: the hash-chained JSONL file (-audit) as the outermost
//     middleware, plus OTLP/HTTP traces, metrics and audit logs when
//     OTEL_EXPORTER_OTLP_ENDPOINT is set.
//   - flags: a flagd-format flag file (-flags) gating tools, reloaded
//     live; connected clients get notifications/tools/list_changed.
//   - approval: who approves calls whose Policy asks for it (-approver
//     elicit|console|deny, -console ADDR), keys from
//     $<PREFIX>_APPROVAL_KEYS, console reviewers (with their scopes) from
//     $<PREFIX>_APPROVER_TOKENS on stdio. The console admits only
//     reviewers meeting Config.Approvers (a server without one refuses
//     -console) and audits refusals and decisions under the reviewer's
//     name; approvers see arguments redacted as the audit file has them.
//
// Everything is resolved once per Run from the flags; the package holds no
// state. On failure Run returns the first setup error (wrapped with the
// feature's name) before anything serves, and always runs the cleanups of
// the features already set up (audit flush, OTLP shutdown, console stop).
//
// The package lives under examples/internal: it is a pattern to copy, not a
// library API.
package serverkit
