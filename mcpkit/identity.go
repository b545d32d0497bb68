package mcpkit

import (
	"context"
	"slices"
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
