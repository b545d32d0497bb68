package mcpkit

import (
	"context"
	"slices"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/internal/wire"
)

// Identity is who is calling, as established by the transport: token claims
// on HTTP, the configured local user on stdio. It is resolved once per
// request and reaches every middleware and the handler through Call.
type Identity struct {
	// Subject is the stable principal id (the token's sub, the OS user).
	Subject string   `json:"subject,omitempty"`
	Email   string   `json:"email,omitempty"`
	Groups  []string `json:"groups,omitempty"`
	// Scopes the caller holds. Tools whose policy needs scopes the caller
	// lacks are hidden and refused by ScopeGate.
	Scopes []string `json:"scopes,omitempty"`
	// ClientName and ClientVersion identify the MCP client software.
	ClientName    string `json:"client_name,omitempty"`
	ClientVersion string `json:"client_version,omitempty"`
	// AuthMethod says how the subject was established: "jwt",
	// "introspection", "static", "local", "none".
	AuthMethod string `json:"auth,omitempty"`
	// Transport is how the caller reached the server: "stdio", "http",
	// "memory".
	Transport string `json:"transport,omitempty"`
}

// HasScopes reports whether the identity holds every scope in need.
func (id Identity) HasScopes(need ...string) bool {
	for _, s := range need {
		if !slices.Contains(id.Scopes, s) {
			return false
		}
	}
	return true
}

// MissingScopes returns the scopes in need that the identity lacks.
func (id Identity) MissingScopes(need ...string) []string {
	var missing []string
	for _, s := range need {
		if !slices.Contains(id.Scopes, s) {
			missing = append(missing, s)
		}
	}
	return missing
}

// InGroup reports whether the identity belongs to group g.
func (id Identity) InGroup(g string) bool { return slices.Contains(id.Groups, g) }

// Anonymous reports whether no subject was established.
func (id Identity) Anonymous() bool { return id.Subject == "" }

type identityKey struct{}

// ContextWithIdentity returns a context carrying id. Transports use it to
// hand the caller's identity to the server; the server prefers it over its
// default identity.
func ContextWithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, &id)
}

// IdentityFromContext returns the identity carried by ctx, if any.
func IdentityFromContext(ctx context.Context) (Identity, bool) {
	p, ok := ctx.Value(identityKey{}).(*Identity)
	if !ok || p == nil {
		return Identity{}, false
	}
	return *p, true
}

// safeIdentityFor is identityFor with a panicking resolver turned into an
// error.
func (s *Server) safeIdentityFor(ctx context.Context, req mcp.Request) (id Identity, err error) {
	defer func() {
		if v := recover(); v != nil {
			id, err = Identity{}, &PanicError{Value: v}
		}
	}()
	return s.identityFor(ctx, req)
}

// identityFor establishes the caller of req: the configured resolver if
// any; else an identity a transport put on the context or the token; else
// the server's default identity. Client name and version come from the
// request when the transport did not set them.
func (s *Server) identityFor(ctx context.Context, req mcp.Request) (Identity, error) {
	var id Identity
	switch {
	case s.resolver != nil:
		var err error
		if id, err = s.resolver(ctx, req); err != nil {
			return Identity{}, err
		}
	default:
		if got, ok := IdentityFromContext(ctx); ok {
			id = got
		} else if got, ok := identityFromToken(req); ok {
			id = got
		} else {
			id = s.identity
		}
	}
	if id.ClientName == "" {
		if ci := clientInfoOf(ctx, req); ci != nil {
			id.ClientName, id.ClientVersion = ci.Name, ci.Version
		}
	}
	return id, nil
}

// identityFromToken reads the identity the HTTP transport stored on the
// request's token.
func identityFromToken(req mcp.Request) (Identity, bool) {
	extra := req.GetExtra()
	if extra == nil || extra.TokenInfo == nil {
		return Identity{}, false
	}
	ti := extra.TokenInfo
	if id, ok := ti.Extra[wire.TokenIdentityKey].(Identity); ok {
		return id, true
	}
	// A verifier other than mcpkit's transport: a minimal identity from
	// the token's user id and scopes.
	return Identity{Subject: ti.UserID, Scopes: ti.Scopes, AuthMethod: "bearer", Transport: "http"}, true
}

func clientInfo(req mcp.Request) *mcp.Implementation {
	switch req.(type) {
	case *mcp.CallToolRequest, *mcp.ListToolsRequest:
		return sdkClientInfo(req)
	}
	return nil
}
