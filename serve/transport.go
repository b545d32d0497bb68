package serve

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/mcpkit-go/mcpkit/internal/loopback"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/transport"
)

// DevSubject is the subject of the fixed caller of a server started with
// -no-auth (loopback only).
const DevSubject = "dev-no-auth"

// shutdownTimeout bounds how long in-flight HTTP requests may finish after
// the server is asked to stop.
const shutdownTimeout = 10 * time.Second

// transportConfig is what the transport flags ask for.
type transportConfig struct {
	scopes    string
	httpAddr  string
	tokens    string
	jwks      string
	issuer    string
	audience  string
	authSrv   string
	stateless bool
	origins   string
	allowNet  bool
	noAuth    bool

	// auth is the HTTP authenticator, built at setup.
	auth transport.Authenticator
}

// transportFeature serves over stdio as the local user (the default), or
// over streamable HTTP at /mcp with static development tokens or JWTs.
// An HTTP server never runs without authentication unless -no-auth says
// so explicitly, on a loopback address, with a warning on stderr.
func transportFeature(cfg Config) feature {
	tc := &transportConfig{}
	return feature{
		name: "transport",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&tc.scopes, "scopes", strings.Join(cfg.Scopes, ","), "comma-separated scopes granted to the local user on stdio")
			fs.StringVar(&tc.httpAddr, "http", "", "serve streamable HTTP at `ADDR` (path /mcp) instead of stdio, e.g. 127.0.0.1:8080")
			fs.StringVar(&tc.tokens, "tokens", "", "static development tokens `FILE` (JSON: token -> {sub, email, groups, scopes}); loopback only")
			fs.StringVar(&tc.jwks, "jwks", "", "JWKS `URL` to verify JWT access tokens against (needs -issuer and -audience)")
			fs.StringVar(&tc.issuer, "issuer", "", "required JWT issuer (iss)")
			fs.StringVar(&tc.audience, "audience", "", "this server's resource URI; JWTs must carry it in aud (e.g. https://mcp.example.com/mcp)")
			fs.StringVar(&tc.authSrv, "auth-server", "", "authorization server advertised in the resource metadata (default: -issuer)")
			fs.BoolVar(&tc.stateless, "stateless", false, "stateless HTTP with JSON responses (no sessions)")
			fs.StringVar(&tc.origins, "origins", "", "comma-separated browser origins allowed to call the HTTP endpoint")
			fs.BoolVar(&tc.allowNet, "allow-static-tokens-on-network", false, "accept -tokens on a non-loopback -http address (never in production)")
			fs.BoolVar(&tc.noAuth, "no-auth", false, "serve -http WITHOUT authentication as a fixed development identity; loopback addresses only (conformance testing)")
		},
		check: tc.validate,
		setup: func(ctx context.Context, e *env) ([]mcpkit.Option, func(context.Context) error, error) {
			e.serve = func(ctx context.Context, srv *mcpkit.Server) error { return serveTransport(ctx, srv, cfg, tc, e) }
			if tc.noAuth {
				fmt.Fprintf(e.io.Stderr, "WARNING: -no-auth: %s serves every HTTP caller as %q with every scope, without authentication; never use it outside a test on loopback\n",
					tc.httpAddr, DevSubject)
				return []mcpkit.Option{mcpkit.WithDefaultIdentity(devIdentity(cfg))}, nil, nil
			}
			if tc.httpAddr != "" {
				// Every HTTP caller is a token's subject; there is no default.
				a, err := tc.authenticator(ctx, e)
				if err != nil {
					return nil, nil, err
				}
				tc.auth = a
				e.authenticate = transport.RequestAuthenticator(a)
				return nil, nil, nil
			}
			return []mcpkit.Option{mcpkit.WithDefaultIdentity(transport.LocalIdentity(splitList(tc.scopes)...))}, nil, nil
		},
	}
}

// devIdentity is the fixed caller of an unauthenticated (-no-auth) server.
func devIdentity(cfg Config) mcpkit.Identity {
	return mcpkit.Identity{Subject: DevSubject, Scopes: cfg.Scopes, AuthMethod: "none", Transport: "http"}
}

func (c *transportConfig) validate() error {
	if c.httpAddr == "" {
		if c.tokens != "" || c.jwks != "" || c.stateless || c.noAuth || c.origins != "" || c.allowNet {
			return errors.New("-tokens, -jwks, -stateless, -origins, -allow-static-tokens-on-network and -no-auth need -http ADDR")
		}
		return nil
	}
	switch {
	case c.noAuth && (c.tokens != "" || c.jwks != ""):
		return errors.New("-no-auth cannot be combined with -tokens or -jwks")
	case c.noAuth:
		if !loopback.Addr(c.httpAddr) {
			return fmt.Errorf("-no-auth is refused on non-loopback address %q: serve on 127.0.0.1 or [::1], or authenticate with -tokens or -jwks", c.httpAddr)
		}
		return nil
	case c.tokens == "" && c.jwks == "":
		return errors.New("-http needs -tokens FILE or -jwks URL: an HTTP server never runs without authentication")
	case c.jwks != "" && (c.issuer == "" || c.audience == ""):
		return errors.New("-jwks needs -issuer and -audience")
	}
	return nil
}

// serveTransport runs srv over stdio until stdin closes or ctx is
// cancelled, or over HTTP until ctx is cancelled.
func serveTransport(ctx context.Context, srv *mcpkit.Server, cfg Config, tc *transportConfig, e *env) error {
	if tc.httpAddr == "" {
		e.logger.Info("serving MCP over stdio", "server", cfg.Name, "version", cfg.Version)
		opts := []transport.StdioOption{transport.WithStdio(e.io.Stdin, e.io.Stdout),
			transport.WithLocalScopes(splitList(tc.scopes)...), transport.WithStdioLogger(e.logger)}
		if e.auditor != nil {
			// A tools/call the server cannot decode is on the record too.
			opts = append(opts, AuditStdioRefusals(e.auditor, srv.Implementation()))
		}
		err := transport.ServeStdio(ctx, srv, opts...)
		e.logger.Info("stopped")
		return err
	}
	h, err := httpHandler(srv, cfg, tc, e)
	if err != nil {
		return err
	}
	if err := h.CheckListenAddr(tc.httpAddr); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", tc.httpAddr)
	if err != nil {
		return err
	}
	e.logger.Info("serving MCP over streamable HTTP", "server", cfg.Name, "version", cfg.Version,
		"url", fmt.Sprintf("http://%s/mcp", ln.Addr()), "stateless", tc.stateless)
	err = transport.Serve(ctx, ln, h, transport.WithServeLogger(e.logger), transport.WithShutdownTimeout(shutdownTimeout))
	e.logger.Info("stopped")
	return err
}

// authenticator builds the HTTP authenticator the flags ask for: static
// development tokens, JWTs against a JWKS, or both (tried in that order).
func (c *transportConfig) authenticator(ctx context.Context, e *env) (transport.Authenticator, error) {
	var auths []transport.Authenticator
	if c.tokens != "" {
		st, err := transport.LoadStaticTokens(c.tokens)
		if err != nil {
			return nil, err
		}
		st.AllowNonLoopback = c.allowNet
		// Checked here too: inside a Chain the handler cannot see it.
		if err := st.CheckListenAddr(c.httpAddr); err != nil {
			return nil, err
		}
		auths = append(auths, st)
	}
	if c.jwks != "" {
		keys, err := transport.NewRemoteJWKS(c.jwks, transport.WithJWKSLogger(e.logger))
		if err != nil {
			return nil, err
		}
		if err := keys.Refresh(ctx); err != nil {
			// Not fatal: cached-nothing means every token is refused
			// until the JWKS answers.
			e.logger.Warn("jwks: initial fetch failed; tokens are refused until it succeeds", "url", c.jwks, "error", err)
		}
		jv, err := transport.NewJWTAuthenticator(transport.JWTConfig{Keys: keys, Issuer: c.issuer, Audience: c.audience})
		if err != nil {
			return nil, err
		}
		auths = append(auths, jv)
	}
	if len(auths) == 1 {
		return auths[0], nil
	}
	return transport.AnyOf(auths...), nil
}

func httpHandler(srv *mcpkit.Server, cfg Config, tc *transportConfig, e *env) (*transport.Handler, error) {
	opts := []transport.Option{transport.WithLogger(e.logger), transport.WithScopesSupported(cfg.Scopes...)}
	if tc.noAuth {
		opts = append(opts, transport.WithoutAuthentication())
	} else {
		opts = append(opts, transport.WithAuthenticator(tc.auth))
	}
	if tc.jwks != "" {
		authSrv := tc.authSrv
		if authSrv == "" {
			authSrv = tc.issuer
		}
		opts = append(opts, transport.WithResource(tc.audience), transport.WithAuthorizationServers(authSrv))
	}
	if tc.stateless {
		opts = append(opts, transport.WithStateless(), transport.WithJSONResponse())
	}
	if o := splitList(tc.origins); len(o) > 0 {
		opts = append(opts, transport.WithAllowedOrigins(o...))
	}
	if t := e.telemetry; t != nil && t.MeterProvider != nil {
		opts = append(opts, transport.WithMeterProvider(t.MeterProvider))
	}
	if e.rateGate != nil {
		opts = append(opts, transport.WithRateLimit(e.rateGate))
	}
	if e.auditor != nil {
		// Requests refused before they reach the server are on the
		// record too.
		opts = append(opts, AuditRefusals(e.auditor, srv.Implementation()))
	}
	return transport.NewHandler(srv, opts...)
}
