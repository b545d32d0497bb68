package transport

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/mcpkit-go/mcpkit/ratelimit"
)

// Option configures a Handler. Options are resolved once, in NewHandler.
type Option func(*httpConfig)

type httpConfig struct {
	path           string
	stateless      bool
	jsonResponse   bool
	auth           Authenticator
	noAuth         bool
	resource       string
	authServers    []string
	scopes         []string
	origins        []string
	maxBody        int64
	ready          func(context.Context) error
	sessionTimeout time.Duration
	logger         *slog.Logger
	onReject       func(r *http.Request, rej Rejection)
	ssePath        string
	bodyTimeout    time.Duration
	maxSessions    int
	maxPerIdentity int
	meters         metric.MeterProvider
	rate           *ratelimit.Gate
	errs           []error // invalid option values, returned by NewHandler
}

// WithPath sets the MCP endpoint path (default "/mcp").
func WithPath(p string) Option { return func(c *httpConfig) { c.path = p } }

// WithStateless serves each request on a temporary session: no
// Mcp-Session-Id, no server-to-client requests, any replica can answer.
// Without it, only protocol 2026-07-28 requests are served so, and older
// clients get stateful sessions.
func WithStateless() Option { return func(c *httpConfig) { c.stateless = true } }

// WithJSONResponse answers POSTs with application/json instead of an SSE
// stream.
func WithJSONResponse() Option { return func(c *httpConfig) { c.jsonResponse = true } }

// WithAuthenticator sets how bearer tokens become identities. A Handler
// needs one unless WithoutAuthentication is given.
func WithAuthenticator(a Authenticator) Option { return func(c *httpConfig) { c.auth = a } }

// WithoutAuthentication serves every request as the server's default
// identity. Only for a server bound to loopback on a developer's machine.
func WithoutAuthentication() Option { return func(c *httpConfig) { c.noAuth = true } }

// WithResource sets this server's resource URI (RFC 8707/9728), such as
// "https://mcp.example.com/mcp": the audience its tokens must carry and the
// base of the resource_metadata URL in challenges. Without it both are
// derived from each request's Host, which is fine only for development.
func WithResource(uri string) Option { return func(c *httpConfig) { c.resource = uri } }

// WithAuthorizationServers names the issuers clients get tokens from, for
// the protected resource metadata document.
func WithAuthorizationServers(urls ...string) Option {
	return func(c *httpConfig) { c.authServers = urls }
}

// WithScopesSupported lists the scopes in the metadata document (default:
// every scope a registered tool's policy names).
func WithScopesSupported(scopes ...string) Option {
	return func(c *httpConfig) { c.scopes = scopes }
}

// WithAllowedOrigins lists the browser origins ("https://app.example.com")
// allowed to call the endpoint. A request with any other Origin header gets
// 403. Without the option only same-origin requests (Origin matching Host)
// and requests without Origin (non-browser clients) pass.
func WithAllowedOrigins(origins ...string) Option {
	return func(c *httpConfig) { c.origins = origins }
}

// WithMaxBodyBytes bounds a request body (default 4 MiB; 413 past it).
func WithMaxBodyBytes(n int64) Option { return func(c *httpConfig) { c.maxBody = n } }

// WithReadiness adds a check /readyz runs (a database ping); an error
// answers 503.
func WithReadiness(check func(context.Context) error) Option {
	return func(c *httpConfig) { c.ready = check }
}

// WithSessionTimeout closes stateful sessions that receive no request for d
// (default 10m; a GET stream alone does not keep a session alive, so a
// client that only listens should ping). d must be positive.
func WithSessionTimeout(d time.Duration) Option { return func(c *httpConfig) { c.sessionTimeout = d } }

// WithMaxSessions bounds the open sessions (stateful streamable HTTP
// sessions plus legacy SSE streams) of the whole handler (default 2048);
// past it a request that would open one gets 503 with Retry-After.
func WithMaxSessions(n int) Option { return func(c *httpConfig) { c.maxSessions = n } }

// WithMaxSessionsPerIdentity bounds the open sessions of one caller
// (default 128; a fleet of agents sharing one token may need more); past
// it the caller gets 429 with Retry-After. An unauthenticated handler has
// only the overall bound.
func WithMaxSessionsPerIdentity(n int) Option { return func(c *httpConfig) { c.maxPerIdentity = n } }

// WithBodyReadTimeout bounds how long a POST may take to send its body,
// counted from when its headers were read (default 30s). A slower client's
// connection is closed. Responses are not bounded: a call may stream its
// result for as long as it runs.
func WithBodyReadTimeout(d time.Duration) Option { return func(c *httpConfig) { c.bodyTimeout = d } }

// WithMeterProvider sets where the handler's metrics go (default: the
// global provider): mcpkit.transport.sessions, the open sessions.
func WithMeterProvider(mp metric.MeterProvider) Option { return func(c *httpConfig) { c.meters = mp } }

// WithLogger sets where refusals and transport problems are logged.
func WithLogger(l *slog.Logger) Option { return func(c *httpConfig) { c.logger = l } }

// WithRejectHook is called for every request the transport refuses before
// it reaches the server (400, 401, 403, 413, 429, 503), with a reason for the
// server's records (never sent to the client). Use it to audit refusals.
func WithRejectHook(f func(r *http.Request, rej Rejection)) Option {
	return func(c *httpConfig) { c.onReject = f }
}
