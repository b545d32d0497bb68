package mcpkit

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Option configures a Server. Options are resolved once, in NewServer.
type Option func(*config)

type config struct {
	outer      []Middleware
	gates      []Gate
	inner      []Middleware
	verbs      []string
	identity   Identity
	resolver   IdentityResolver
	mcpServer  *mcp.Server
	mcpOptions *mcp.ServerOptions
	logger     *slog.Logger
	noScopes   bool
	maxResult  int
	maxSubs    int
	listTTLMs  int
	errs       []error
}

// IdentityResolver establishes the caller of a request. Transports install
// one; an error refuses the request (fail closed).
type IdentityResolver func(ctx context.Context, req mcp.Request) (Identity, error)

// WithMiddleware adds middleware around every call, outermost first. It runs
// before gates and validation, so it sees every outcome: this is where audit
// and tracing go.
func WithMiddleware(mw ...Middleware) Option {
	return func(c *config) { c.outer = append(c.outer, mw...) }
}

// WithGates adds gates (flags, scopes), asked in order after the outer
// middleware and before validation, and for tools/list visibility. The
// scope gate is installed without it, first; list ScopeGate() here only to
// ask it at another position.
func WithGates(g ...Gate) Option {
	return func(c *config) { c.gates = append(c.gates, g...) }
}

// WithInnerMiddleware adds middleware that runs after the arguments are
// validated and decoded (Call.Input is set), just around the handler: this
// is where approval goes.
func WithInnerMiddleware(mw ...Middleware) Option {
	return func(c *config) { c.inner = append(c.inner, mw...) }
}

// WithVerbs replaces the verbs tool names may start with.
func WithVerbs(verbs ...string) Option {
	return func(c *config) { c.verbs = slices.Clone(verbs) }
}

// WithExtraVerbs adds verbs to the default list.
func WithExtraVerbs(verbs ...string) Option {
	return func(c *config) { c.verbs = append(c.verbs, verbs...) }
}

// WithDefaultIdentity sets the identity used when neither the context nor
// the request carries one: the local user on stdio.
func WithDefaultIdentity(id Identity) Option {
	return func(c *config) { c.identity = id }
}

// WithIdentityResolver replaces how a request's identity is established.
func WithIdentityResolver(r IdentityResolver) Option {
	return func(c *config) { c.resolver = r }
}

// WithMCPServer registers tools on an existing go-sdk server instead of a
// new one, for teams that already serve MCP. mcpkit cannot see that
// server's options, so it decides every resource subscription and
// completion as if the server offered them (see WithServerOptions).
func WithMCPServer(s *mcp.Server) Option {
	return func(c *config) { c.mcpServer = s }
}

// WithServerOptions passes options to the go-sdk server mcpkit creates.
// Its SubscribeHandler and UnsubscribeHandler (resource subscriptions) and
// CompletionHandler (completion/complete) run only for requests the gates
// let through, decided as the read or get they concern, and audited; the
// resource update notices ResourceUpdated sends reach only subscribers the
// gates still let read the URI. Without them the SDK answers method not
// found.
func WithServerOptions(o *mcp.ServerOptions) Option {
	return func(c *config) { c.mcpOptions = o }
}

// WithLogger sets where the server logs its own problems (never protocol
// traffic). The default discards them.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

// WithoutScopeEnforcement turns off the built-in check of Policy.Scopes:
// tools are listed to and callable by callers that lack their declared
// scopes, and the HTTP transport no longer answers 403 for them. It is
// for a server whose every call is authorized by something else (a gateway,
// a gate of its own). NewServer logs a warning when it is set, and it
// cannot be combined with WithGates(ScopeGate()).
func WithoutScopeEnforcement() Option {
	return func(c *config) { c.noScopes = true }
}

// WithMaxResultBytes bounds every tool's result, as the JSON the client
// receives (content and structuredContent), to n bytes; Tool.MaxResultBytes
// overrides it per tool. A larger result is not returned: the caller gets
// an isError result saying so, and the call's outcome is result_too_large.
// The default is DefaultMaxResultBytes; n must be positive.
func WithMaxResultBytes(n int) Option {
	return func(c *config) {
		if n <= 0 {
			c.errs = append(c.errs, fmt.Errorf("mcpkit: WithMaxResultBytes(%d): the limit must be positive", n))
			return
		}
		c.maxResult = n
	}
}

// DefaultMaxSubscriptions is how many resources one session may be
// subscribed to at once (WithMaxSubscriptions): the SDK keeps every
// subscription until it is undone or the session ends.
const DefaultMaxSubscriptions = 256

// WithMaxSubscriptions bounds how many resources (distinct URIs) one
// session may be subscribed to at once, through resources/subscribe or
// open subscriptions/listen streams. One more is refused as unavailable,
// audited, before the SDK keeps it; unsubscribing makes room. The default
// is DefaultMaxSubscriptions; n must be positive.
func WithMaxSubscriptions(n int) Option {
	return func(c *config) {
		if n <= 0 {
			c.errs = append(c.errs, fmt.Errorf("mcpkit: WithMaxSubscriptions(%d): the limit must be positive", n))
			return
		}
		c.maxSubs = n
	}
}
