// Command embed is an existing net/http service, "orders", with mcpkit
// mounted into it: the way a platform team adds an MCP endpoint to a Go
// service it already runs, without adopting a new auth system, a new
// telemetry pipeline or a second server process.
//
//	go run ./examples/embed            # listens on 127.0.0.1:8090, prints keys and how to call it
//	go run ./examples/embed -addr 127.0.0.1:9000 -audit /var/log/orders/mcp-audit.jsonl
//
// # What was already there
//
//   - its own http.ServeMux with a REST API (GET /api/orders,
//     GET /api/orders/{id}, POST /api/orders/{id}/cancel) over an
//     OrderStore (orders.go, api.go);
//   - its own authentication: API keys sent as "Authorization: Bearer
//     <key>", stored as SHA-256 digests, each with a principal and
//     permissions such as orders:read (apikeys.go; keys in
//     $ORDERS_API_KEYS as name:team:perm+perm:key,... — on a loopback
//     address without it, two development keys are made and printed);
//   - its own OpenTelemetry providers: OTLP/HTTP when
//     OTEL_EXPORTER_OTLP_ENDPOINT is set, else none (telemetry.go), and a
//     server span per request;
//   - one http.Server with graceful shutdown on SIGINT/SIGTERM, bounded by
//     -shutdown-timeout (service.go, main.go).
//
// # What mcpkit added (mcp.go, tools.go)
//
//   - three typed tools over the same OrderStore: list_orders and
//     get_order (read-only, scope orders:read) and cancel_order
//     (destructive, scope orders:write, approved by the caller in their
//     MCP client on every call);
//   - the existing API keys as the MCP authenticator, through
//     transport.AuthenticatorFunc: the key's principal becomes the
//     mcpkit.Identity subject, its team a group, its permissions the
//     scopes; keys without orders:write do not even see cancel_order;
//   - audit.Middleware writing a hash-chained file and, through a queue,
//     log records to the service's LoggerProvider, with spans and the
//     duration metric on its TracerProvider and MeterProvider (the
//     tools/call span nests under the service's own request span);
//   - the transport.Handler registered on the existing mux at /mcp (plus
//     /.well-known/oauth-protected-resource/mcp, /healthz and /readyz),
//     served by the existing http.Server, stateless so that any replica
//     answers and shutdown never waits on an idle stream.
//
// # On failure
//
// No key or an unknown key: 401 with WWW-Authenticate (Bearer
// resource_metadata=... on /mcp, realm="orders" on the REST API), and an
// audit record for the MCP refusal. A key without the tool's scope: 403
// insufficient_scope before the tool runs. A declined or impossible
// approval: cancel_order does not run and the caller is told why. On
// SIGTERM /readyz turns 503 and the listener closes; requests in flight
// (REST and MCP) get -shutdown-timeout to finish; calls still running then
// are cancelled and connections closed; once every call's final record is
// written (at most 2 s more) the audit file is closed, then the telemetry
// providers flush. Check the file with
//
//	go run ./audit/cmd/auditverify -keys orders-mcp-audit.jsonl.key -rotated orders-mcp-audit.jsonl
package main
