package transport

import (
	"net/http"
	"slices"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// metadataHandler serves the RFC 9728 protected resource metadata: the
// resource, the authorization servers to get tokens from, and the scopes
// this server's tools use.
func (h *Handler) metadataHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scopes := h.cfg.scopes
		if scopes == nil {
			scopes = h.toolScopes()
		}
		auth.ProtectedResourceMetadataHandler(&oauthex.ProtectedResourceMetadata{
			Resource:               h.resourceURI(r),
			AuthorizationServers:   h.cfg.authServers,
			ScopesSupported:        scopes,
			BearerMethodsSupported: []string{"header"},
			ResourceName:           h.srv.Implementation().Name,
		}).ServeHTTP(w, r)
	})
}

// toolScopes is every scope a registered tool's policy names, sorted.
func (h *Handler) toolScopes() []string {
	var out []string
	for _, t := range h.srv.Tools() {
		for _, s := range t.Policy.Scopes {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	slices.Sort(out)
	return out
}
