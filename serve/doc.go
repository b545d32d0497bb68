// Package serve runs a team's mcpkit server in production: a complete
// server is its tools plus a main of a few lines.
//
//	func main() {
//		serve.Main(serve.Config{
//			Name:      "tickets",
//			Version:   "0.1.0",
//			Scopes:    []string{"tickets:read", "tickets:write"},
//			Tools:     registerTools,  // func(*mcpkit.Server) error, calls mcpkit.AddTool
//			Telemetry: otlp.FromEnv,   // optional: serve/otlp, OTLP when OTEL_* says so
//		})
//	}
//
// The command line it parses (see FlagSet) turns into these features:
//
//   - shared state, for a fleet of replicas: with Config.SharedState set,
//     -shared-state URL (or $<PREFIX>_SHARED_STATE, which stays out of
//     process listings) connects each replica to the state they share
//     (Shared: the single-use approval states, the console's pending
//     requests, the rate limits) before anything else is set up. The URL
//     is never logged nor put in an error. With -approver elicit (the
//     default) $<PREFIX>_APPROVAL_KEYS is then required (every replica
//     verifies the states any replica signed).
//     -instance-id ID names the replica (default: the host name);
//     -replicas N (default 1) is how many share the state: while the
//     shared limiter is unreachable, each replica grants read-only calls
//     1/N of each -rate-limit and refuses the others. Without a URL the
//     server runs alone.
//   - transport: stdio as the local user with -scopes (the default), or
//     streamable HTTP at /mcp with -http ADDR, authenticated by static
//     development tokens (-tokens FILE, loopback only unless
//     -allow-static-tokens-on-network) or JWTs (-jwks URL -issuer
//     -audience, -auth-server); -stateless, -origins. -no-auth serves HTTP
//     without authentication as DevSubject and is refused on any address
//     but loopback. Requests the transport refuses are audited.
//   - audit: every call in the keyed, hash-chained JSONL file -audit
//     (default <name>-audit.jsonl), key from -audit-key, $MCPKIT_AUDIT_KEY
//     or FILE.key (created with a warning); -audit-witness FILE; as the
//     outermost middleware. Every line names the replica (-instance-id);
//     "{instance}" in -audit gives each replica its own file
//     (audit/{instance}.jsonl), and a replica of a fleet (shared state
//     connected) without -audit writes <name>-audit/{instance}.jsonl; a
//     second process on a file in use is refused. With Config.Telemetry, spans and metrics per
//     MCP request and the audit records as logs.
//   - rate limit: -rate-limit SPEC (ratelimit.ParseRules, e.g.
//     read_only=20/s,write=5/m,destructive=2/m) limits each caller per
//     risk class or tool, as the first gate, in memory or in the limiter
//     Config.RateLimiter supplies (in a fleet, Shared.Limiter: one shared
//     by the replicas, e.g. pgstate.NewLimiter); over HTTP the transport
//     answers 429 with Retry-After. Empty limits nothing.
//   - flags: the flagd-format file -flags gates tools, reloaded live;
//     connected clients get notifications/tools/list_changed.
//   - approval: -approver elicit (the user, in their client; the default),
//     console (a reviewer at -console ADDR) or deny; keys in
//     $<PREFIX>_APPROVAL_KEYS, console reviewers on stdio in
//     $<PREFIX>_APPROVER_TOKENS. The console admits only Config.Approvers.
//
// Main and Run serve until SIGINT/SIGTERM (or the context ends, or stdin
// closes on stdio), then stop gracefully: in-flight HTTP requests get 10
// seconds, and the audit file, telemetry and console are flushed and
// closed. New and Server split that into set-up, Serve and Close, so that
// a test can connect to the fully wired server in memory.
//
// Failure: a bad flag combination, a missing or malformed key, an
// unreadable token file or a non-loopback -no-auth address is an error
// from New (and Run, and exit status 1 from Main) before anything serves;
// whatever was already opened is closed again. serve never panics on
// configuration.
//
// serve depends on the OpenTelemetry API only. Exporters are linked only
// by servers that want them: github.com/mcpkit-go/mcpkit/serve/otlp (its
// own module) provides a TelemetryFunc for OTLP/HTTP.
//
// A server that mounts transport.NewHandler itself rather than using serve
// audits the transport's refusals with AuditRefusals (AuditStdioRefusals
// on stdio).
package serve
