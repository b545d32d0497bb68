// Package transport serves an mcpkit server to MCP clients: over stdio for
// one engineer's laptop, and over streamable HTTP for a server a team
// shares, as an OAuth 2.1 resource server under the MCP authorization spec.
//
// # Where it sits
//
//	client -> transport (Origin, bearer token -> Identity from the headers,
//	          bounded body read, one decode as go-sdk decodes,
//	          insufficient_scope pre-check, session bounds) -> mcp.Server
//	       -> mcpkit chain
//
// The body is read only after authentication, and the limit counts the
// bytes the client sent. The transport decodes it exactly as go-sdk does
// (case-sensitive field names, the same nesting bound and batch rule), so
// its checks act on the tool the SDK will call; every tools/call's params
// reach the server re-encoded, with the client's own _meta keys under
// "io.mcpkit/" dropped and the JSON-RPC id stamped under
// "io.mcpkit/request-id" (mcpkit.Call.RequestID).
//
// The transport establishes who the caller is; the mcpkit chain (audit,
// gates, validation, approval, handler) sees that identity on every Call.
//
// # Stdio
//
//	err := transport.ServeStdio(ctx, srv, transport.WithLocalScopes("incidents:read"))
//
// The caller is the OS user (LocalIdentity) unless WithIdentity says
// otherwise. Stdout carries nothing but protocol messages. At end of input
// every request already read is answered before ServeStdio returns
// (bounded by WithDrainTimeout), so `printf '<init>\n<call>\n' | server`
// works; a malformed line is answered with a JSON-RPC error and serving
// continues. Cancelling ctx lets in-flight calls finish for a bounded time.
//
// # Streamable HTTP
//
//	keys, err := transport.NewRemoteJWKS("https://idp.example.com/jwks.json")
//	jv, err := transport.NewJWTAuthenticator(transport.JWTConfig{
//		Keys: keys, Issuer: "https://idp.example.com", Audience: "https://mcp.example.com/mcp"})
//	h, err := transport.NewHandler(srv, transport.WithAuthenticator(jv),
//		transport.WithResource("https://mcp.example.com/mcp"),
//		transport.WithAuthorizationServers("https://idp.example.com"))
//	h.Register(mux) // or: transport.ListenAndServe(ctx, ":8080", h)
//
// One Handler serves every protocol version on the same endpoint: a
// request of protocol 2026-07-28 or later (MCP-Protocol-Version header or
// _meta) goes to a stateless go-sdk handler, since the SDK serves that
// revision only statelessly; older clients get stateful sessions.
// WithStateless serves everything statelessly.
//
// The deprecated HTTP+SSE transport is served only with WithLegacySSE, with
// the same checks; its stream runs as the identity that opened it.
// NewHandler logs a deprecation warning when it is enabled; it goes in
// v0.3.0.
//
// # On failure
//
// Every refusal happens before the server sees the request and is a
// JSON-RPC error body the go-sdk client surfaces without ending its
// session:
//
//   - no or malformed Authorization header: 401, WWW-Authenticate: Bearer
//     resource_metadata="..."; invalid or expired token: 401 with
//     error="invalid_token". Why a token failed stays in the server log.
//     A JWT whose header or claims name a member twice (at any depth), or
//     whose crit lists an extension not in JWTConfig.CriticalHeaders, is
//     invalid.
//   - a tools/call for a tool whose policy scopes the token lacks: 403,
//     WWW-Authenticate: Bearer error="insufficient_scope", scope="...";
//     the tool does not run. Such tools are hidden from tools/list by the
//     core's scope check, which every server has unless built with
//     mcpkit.WithoutScopeEnforcement (then neither check runs).
//   - an Origin not allowed: 403. A body over the limit: 413. A token
//     that cannot be checked (introspection endpoint down): 503. A JWKS
//     that cannot be fetched: cached keys keep working; without keys every
//     token is invalid. Nothing is ever let through unverified.
//   - a stateful session id (or a legacy SSE session) presented by another
//     identity: 403.
//   - a 2026-07-28 request naming a session (Mcp-Session-Id): 400, -32600,
//     reported to the reject hook. One whose Mcp-Method or Mcp-Name
//     header is missing or disagrees with its body, or whose tools/call,
//     prompts/get or resources/read params the name cannot be read from:
//     400, -32020, under the SDK's rules but before it, reported to the
//     reject hook with the method and the body's name (Rejection.Target)
//     and without the header's value. MCP-Protocol-Version vs _meta: 400,
//     -32020, from the SDK.
//   - Mcp-Param-* headers that disagree with the body (see below): 400,
//     -32020 (HeaderMismatch), reported to the reject hook; the tool does
//     not run.
//   - a tools/call whose params go-sdk cannot decode: 400 with a plain
//     -32602 message, reported to the reject hook (on stdio, to
//     WithStdioRejectHook) for the audit record. On stdio a resources/read
//     or prompts/get whose params the SDK cannot decode (a uri or a prompt
//     argument that is not a string) is still answered by the SDK, and is
//     reported to WithStdioRejectHook with its method.
//   - a tools/call, resources/read or prompts/get over its WithRateLimit
//     limit: 429 with Retry-After, reported to the reject hook (denied_rate).
//   - a session past WithMaxSessionsPerIdentity (128): 429; past
//     WithMaxSessions (2048): 503; both with Retry-After. Idle sessions
//     close after WithSessionTimeout (10m). A DELETE that ends a session
//     is answered once its slot is free, so the next session may open at
//     once.
//   - a POST body not sent within WithBodyReadTimeout (30s), or headers
//     not within WithReadHeaderTimeout (10s, Serve): the connection closes.
//   - a JSON-RPC id longer than MaxRequestID (128 bytes): 400 (stdio: an
//     error line), reported to the reject hook without the id.
//
// # Mcp-Param-* headers (x-mcp-header)
//
// A tool's mcpkit.Policy.Headers marks top-level arguments that HTTP
// clients also send as Mcp-Param-<name> headers, so that a gateway can
// route on them without reading the body; the input schema carries each
// as the property's "x-mcp-header" annotation (MCP 2026-07-28, SEP-2243:
// basic/transports/streamable-http, "Custom Headers from Tool
// Parameters", and server/tools, "x-mcp-header"). A gateway that routes
// on a header the server never compared with the body sends one tenant's
// call where the server acts for another, so before the SDK sees a POST
// (to the MCP endpoint, or to the WithLegacySSE one) the transport checks,
// for the tools/call it carries:
//
//   - every Mcp-Param-* header names a marked argument of the called tool
//     (not an unmarked one, another tool's, or any on a request that is
//     not a tools/call or on a batch), and appears once (names compared
//     ignoring case);
//   - its value holds only visible ASCII, space and tab, or is
//     =?base64?<padded standard base64>?= (markers case-sensitive; a value
//     lacking either marker is taken literally);
//   - decoded, it equals the body's argument: a string byte for byte, a
//     boolean as "true" or "false", an integer numerically ("42.0" equals
//     42; no exponents, at most ±(2^53-1) on both sides);
//   - an argument absent or null in the body has no header, and a body
//     never spells a marked argument in two cases;
//   - from protocol 2026-07-28, a marked argument present in the body has
//     its header. Older clients do not know the headers and need not send
//     them, but one they send is held to the body all the same.
//
// Any failure is 400 with JSON-RPC -32020 (HeaderMismatch), whose message
// names the header and the argument and tells the client to list the
// tools again (the go-sdk and TypeScript v2 clients mirror the headers
// from a tools/list they have seen; before one, they send none). Header
// values never enter the message, the reject hook's reason or the log;
// the argument itself is in the audit record as the tool's policy
// redacts it. The go-sdk's own check of the same headers runs after this
// one, for 2026-07-28 requests, and never sees a request this one refused.
//
// Refusal reasons (log, reject hook) never quote the client's bytes: a
// decode error is named by kind and position. Unauthenticated refusals are
// logged at most once a minute per status, with a count of the rest. A
// refusal sent before the body is read closes the connection, so that it
// is not delayed by the server waiting for the body.
package transport
