package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.opentelemetry.io/otel"

	"github.com/mcpkit-go/mcpkit/internal/wire"
	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// Handler serves an mcpkit server over streamable HTTP: the MCP endpoint,
// the RFC 9728 protected resource metadata, /healthz and /readyz. Mount it
// whole (it is an http.Handler) or route by route with Register.
type Handler struct {
	cfg      httpConfig
	srv      *mcpkit.Server
	sdk      http.Handler // stateful (sessions), or stateless with WithStateless
	sdkNew   http.Handler // stateless: protocol 2026-07-28 and later requests
	sse      *legacySSE   // nil unless WithLegacySSE
	metaPath string       // path-suffixed well-known path, if the resource has a path
	mux      *http.ServeMux
	draining atomic.Bool
	sessions *sessionLimiter
	refusals *refusalLog
}

const wellKnown = "/.well-known/oauth-protected-resource"

// NewHandler builds the HTTP transport for srv, serving 2026-07-28
// requests statelessly and older clients with sessions on one endpoint
// (see WithStateless). It needs an Authenticator (WithAuthenticator) unless
// WithoutAuthentication is given, so that a shared server is never left
// open by omission.
func NewHandler(srv *mcpkit.Server, opts ...Option) (*Handler, error) {
	cfg := httpConfig{path: "/mcp", maxBody: 4 << 20, sessionTimeout: 10 * time.Minute, bodyTimeout: 30 * time.Second,
		maxSessions: defaultMaxSessions, maxPerIdentity: defaultMaxSessionsPerIdentity}
	for _, o := range opts {
		o(&cfg)
	}
	if err := errors.Join(cfg.errs...); err != nil {
		return nil, err
	}
	switch {
	case srv == nil:
		return nil, errors.New("transport: NewHandler needs a server")
	case cfg.auth == nil && !cfg.noAuth:
		return nil, errors.New("transport: no authenticator; use WithAuthenticator, or WithoutAuthentication for a loopback development server")
	case !strings.HasPrefix(cfg.path, "/"):
		return nil, fmt.Errorf("transport: path %q must start with /", cfg.path)
	case cfg.maxBody <= 0:
		return nil, fmt.Errorf("transport: body limit %d must be positive", cfg.maxBody)
	case cfg.ssePath != "" && (!strings.HasPrefix(cfg.ssePath, "/") || cfg.ssePath == cfg.path):
		return nil, fmt.Errorf("transport: legacy SSE path %q must start with / and differ from %q", cfg.ssePath, cfg.path)
	case cfg.sessionTimeout <= 0:
		return nil, fmt.Errorf("transport: session timeout %v must be positive", cfg.sessionTimeout)
	case cfg.bodyTimeout <= 0:
		return nil, fmt.Errorf("transport: body read timeout %v must be positive", cfg.bodyTimeout)
	case cfg.maxSessions <= 0 || cfg.maxPerIdentity <= 0:
		return nil, fmt.Errorf("transport: session limits (%d in total, %d per identity) must be positive", cfg.maxSessions, cfg.maxPerIdentity)
	}
	if !cfg.noAuth {
		if err := checkAuthenticator(cfg.auth); err != nil {
			return nil, fmt.Errorf("transport: WithAuthenticator: %w", err)
		}
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	if cfg.meters == nil {
		cfg.meters = otel.GetMeterProvider()
	}
	h := &Handler{cfg: cfg, srv: srv, mux: http.NewServeMux(), sessions: newSessionLimiter(cfg.maxSessions, cfg.maxPerIdentity, cfg.meters),
		refusals: newRefusalLog(cfg.logger)}
	if cfg.ssePath != "" {
		h.sse = newLegacySSE(srv)
	}
	if cfg.resource != "" {
		u, err := url.Parse(cfg.resource)
		if err != nil || u.Scheme == "" || u.Host == "" || u.Fragment != "" {
			return nil, fmt.Errorf("transport: resource %q must be an absolute URL without a fragment", cfg.resource)
		}
		if p := strings.TrimSuffix(u.EscapedPath(), "/"); p != "" {
			h.metaPath = wellKnown + p
		}
	} else {
		h.metaPath = wellKnown + cfg.path
	}
	h.sdk = h.withTokenInfo(newSDKHandler(srv, cfg, cfg.stateless))
	h.sdkNew = h.sdk
	if !cfg.stateless {
		h.sdkNew = h.withTokenInfo(newSDKHandler(srv, cfg, true))
	}
	if h.sse != nil {
		cfg.logger.Warn("transport: legacy HTTP+SSE (protocol 2024-11-05) is deprecated and will be removed in mcpkit v0.3.0; move clients to streamable HTTP",
			"path", cfg.ssePath)
	}
	h.Register(h.mux)
	return h, nil
}

// newSDKHandler is the go-sdk's streamable HTTP handler over srv, stateful
// or stateless. A Handler holds one of each unless WithStateless: the SDK
// serves protocol 2026-07-28 only statelessly, and older clients need
// sessions (server-to-client requests, the GET stream).
func newSDKHandler(srv *mcpkit.Server, cfg httpConfig, stateless bool) http.Handler {
	return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv.MCPServer() }, &mcp.StreamableHTTPOptions{
		Stateless:      stateless,
		JSONResponse:   cfg.jsonResponse,
		Logger:         cfg.logger,
		SessionTimeout: cfg.sessionTimeout,
		// The limit is ours (readBody), on the bytes the client sent: the
		// body the SDK reads is already in memory, and the request id we
		// stamp into it must not decide whether it fits.
		MaxRequestBodyBytes: -1,
		// A call whose client went away stops (its approval wait, its
		// query): nobody can receive the result. Applies from protocol
		// 2026-07-28, where the POST is the whole call.
		PropagateRequestCancellation: true,
	})
}

// withTokenInfo hands the caller our own check established to the SDK.
// The SDK reads the caller from a context key only its own middleware can
// set; it binds stateful sessions to TokenInfo.UserID and hands TokenInfo
// to the server per request. Our own check has already run, so the
// verifier only passes its result on.
func (h *Handler) withTokenInfo(sdk http.Handler) http.Handler {
	if h.cfg.noAuth {
		return sdk
	}
	return auth.RequireBearerToken(func(_ context.Context, _ string, r *http.Request) (*auth.TokenInfo, error) {
		if ti, ok := r.Context().Value(tokenInfoKey{}).(*auth.TokenInfo); ok {
			return ti, nil
		}
		return nil, auth.ErrInvalidToken
	}, &auth.RequireBearerTokenOptions{AllowMissingExpiration: true})(sdk)
}

type tokenInfoKey struct{}

// Register adds the handler's routes to mux: the MCP endpoint, the
// protected resource metadata (both forms), /healthz and /readyz.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc(h.cfg.path, h.serveMCP)
	mux.Handle(wellKnown, h.metadataHandler())
	if h.metaPath != "" && h.metaPath != wellKnown {
		mux.Handle(h.metaPath, h.metadataHandler())
	}
	mux.HandleFunc("/healthz", h.serveHealth)
	mux.HandleFunc("/readyz", h.serveReady)
	if h.sse != nil {
		mux.HandleFunc(h.cfg.ssePath, h.serveSSE)
	}
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// MCP returns the MCP endpoint alone, for routers other than ServeMux.
func (h *Handler) MCP() http.Handler { return http.HandlerFunc(h.serveMCP) }

// StartDrain makes /readyz answer 503 so that load balancers stop sending
// new traffic; ListenAndServe calls it when shutdown begins.
func (h *Handler) StartDrain() { h.draining.Store(true) }

// CheckListenAddr refuses a listen address the authenticator must not be
// exposed on (static development tokens on a non-loopback address).
func (h *Handler) CheckListenAddr(addr string) error {
	if c, ok := h.cfg.auth.(interface{ CheckListenAddr(string) error }); ok {
		return c.CheckListenAddr(addr)
	}
	if h.cfg.noAuth && !isLoopbackAddr(addr) {
		return fmt.Errorf("an unauthenticated MCP endpoint is refused on non-loopback address %q", addr)
	}
	return nil
}

// checkOrigin answers 403 for a browser origin that may not call.
func (h *Handler) checkOrigin(w http.ResponseWriter, r *http.Request) bool {
	if origin := r.Header.Get("Origin"); origin != "" && !h.originAllowed(origin, r) {
		h.reject(w, r, http.StatusForbidden, "", nil,
			"origin "+origin+" is not allowed to call this server", "origin not allowed: "+origin)
		return false
	}
	return true
}

// admit runs what every MCP request meets, in this order, each answering
// its own refusal: Origin, authentication from the headers alone (401
// before a byte of the body is read), then the bounded body read and its
// single decode (readBody). caller is nil without authentication.
func (h *Handler) admit(w http.ResponseWriter, r *http.Request) (caller *mcpkit.Identity, b body, ok bool) {
	h.startBodyDeadline(w, r)
	if !h.checkOrigin(w, r) {
		return nil, body{}, false
	}
	if !h.cfg.noAuth {
		id, ok := h.authenticate(w, r)
		if !ok {
			return nil, body{}, false
		}
		caller = &id
	}
	b, ok = h.readBody(w, r, caller)
	return caller, b, ok
}

func (h *Handler) serveMCP(w http.ResponseWriter, r *http.Request) {
	r = withNetwork(r)
	caller, b, ok := h.admit(w, r)
	if !ok {
		return
	}
	if caller != nil {
		admitted, ok := h.checkRate(w, r, *caller, b)
		if !ok || !h.checkToolScopes(w, r, *caller, b.calls) {
			return
		}
		ti := &auth.TokenInfo{
			// Sessions are bound to this: another caller replaying the
			// session id gets 403 from the SDK.
			UserID: identityKey(*caller),
			Scopes: caller.Scopes,
			Extra:  map[string]any{wire.TokenIdentityKey: *caller, wire.TokenNetworkKey: networkOf(r)},
		}
		if admitted != nil {
			ti.Extra[wire.TokenRateAdmittedKey] = admitted
		}
		r = r.WithContext(context.WithValue(r.Context(), tokenInfoKey{}, ti))
	}
	if !h.checkMethodHeaders(w, r, caller, b) || !h.checkParamHeaders(w, r, caller, b) {
		return
	}
	if speaksStateless(r, b) {
		// Protocol 2026-07-28 and later: no session, any replica answers.
		if h.checkSessionless(w, r, b, Rejection{Identity: caller}) {
			h.sdkNew.ServeHTTP(w, r)
		}
		return
	}
	if !h.cfg.stateless && r.Method == http.MethodDelete {
		h.endSession(w, r)
		return
	}
	if h.cfg.stateless || r.Method != http.MethodPost || r.Header.Get("Mcp-Session-Id") != "" {
		h.sdk.ServeHTTP(w, r)
		return
	}
	// A POST without a session id opens a session (the SDK keeps it if it
	// is an initialize): it needs a free slot.
	key := sessionKey(caller)
	if status := h.sessions.acquire(key); status != 0 {
		h.sessionsFull(w, r, caller, status)
		return
	}
	h.sdk.ServeHTTP(w, r)
	h.sessions.settle(h.srv.MCPServer(), w.Header().Get("Mcp-Session-Id"), key)
}

// authenticate answers 401 or 503 itself when the caller is not
// established.
func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request) (mcpkit.Identity, bool) {
	token, ok := bearerToken(r)
	if !ok {
		h.reject(w, r, http.StatusUnauthorized, "", nil,
			"missing bearer token: send Authorization: Bearer <access token>; the resource metadata says where to get one",
			"no access token in the Authorization header")
		return mcpkit.Identity{}, false
	}
	id, err := h.cfg.auth.Authenticate(r.Context(), token)
	switch {
	case err == nil:
		if id.Transport == "" {
			id.Transport = "http"
		}
		return id, true
	case errors.Is(err, ErrExpiredToken):
		h.reject(w, r, http.StatusUnauthorized, "invalid_token", nil, "invalid bearer token: the token has expired; get a new one", err.Error())
	case errors.Is(err, ErrInvalidToken):
		// Why a token failed (bad signature, wrong audience) stays in the
		// server's log: telling a forger helps only the forger.
		h.reject(w, r, http.StatusUnauthorized, "invalid_token", nil, "invalid bearer token: the token was not accepted; get a new token for this server", err.Error())
	default:
		w.Header().Set("Retry-After", "5")
		h.reject(w, r, http.StatusServiceUnavailable, "", nil, "the server cannot verify tokens right now; try again shortly", err.Error())
	}
	return mcpkit.Identity{}, false
}

func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || strings.ContainsAny(token, " \t") {
		return "", false
	}
	return token, true
}

// originAllowed: an allow-listed origin, or with no list the request's own
// host (same-origin).
func (h *Handler) originAllowed(origin string, r *http.Request) bool {
	if len(h.cfg.origins) > 0 {
		for _, o := range h.cfg.origins {
			if strings.EqualFold(strings.TrimSuffix(o, "/"), origin) {
				return true
			}
		}
		return false
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host)
}

func (h *Handler) serveHealth(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

func (h *Handler) serveReady(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if h.draining.Load() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	if h.cfg.ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := h.cfg.ready(ctx); err != nil {
			h.cfg.logger.Warn("readiness check failed", "error", err)
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
	}
	_, _ = w.Write([]byte("ready\n"))
}
