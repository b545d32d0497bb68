// Package wire holds what mcpkit's transports hand its server across the
// SDK, which has no field for them: the auth.TokenInfo.Extra keys under
// which the HTTP transport stores the verified caller and the connection,
// and the _meta keys under which it stamps the JSON-RPC request id. The
// transports write them, the server and the audit middleware read them;
// none of it is part of the public API.
package wire

// NetworkContextKey is the context key under which a transport puts the
// request's mcpkit.Network (per stateless request, or per session).
type NetworkContextKey struct{}

const (
	// TokenIdentityKey is the auth.TokenInfo.Extra key holding the
	// caller's mcpkit.Identity.
	TokenIdentityKey = "mcpkit.identity"
	// TokenNetworkKey is the auth.TokenInfo.Extra key holding the
	// request's mcpkit.Network.
	TokenNetworkKey = "mcpkit.network"
)

// MetaNamespace prefixes every _meta key mcpkit itself writes. The
// transports drop every key a client sent in it before they stamp theirs,
// so the server never reads a value the client wrote under mcpkit's name.
const MetaNamespace = "io.mcpkit/"

// MetaRequestID is the _meta key under which the transports hand the
// JSON-RPC id of a tools/call to the server: go-sdk keeps the id private
// to its own context, and the audit record and the trace need it.
const MetaRequestID = MetaNamespace + "request-id"

// TokenRateAdmittedKey is the auth.TokenInfo.Extra key under which the
// HTTP transport says that a rate-limit gate already counted and allowed
// the request's one call (tools/call, resources/read or prompts/get; it
// answers 429 itself otherwise), so that the gate does not count it a
// second time. The value is the gate's own mark, a *ratelimit.Admission,
// made and recognised by package ratelimit alone.
const TokenRateAdmittedKey = "mcpkit.rate-admitted"
