package serve

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// approvalFeature puts the human-approval gate after validation, in front
// of every tool whose Policy asks for approval (a server of read-only tools
// never triggers it; it is wired anyway, so that every server has the same
// surface).
//
//	-approver elicit   ask the user in their MCP client (default); with
//	                   -console, clients that cannot elicit fall back to it
//	-approver console  wait for a reviewer in the console at -console ADDR
//	-approver deny     refuse every call that needs approval
//
// A call nobody answers within Config.ApprovalTimeout is denied. The
// console admits only reviewers who meet Config.Approvers (403 and an
// audit record otherwise), records every decision under the reviewer's
// name, and shows arguments redacted exactly as the audit file has them.
// Secrets come from the environment, never from flags (which show in
// process listings): the HMAC keys in $<PREFIX>_APPROVAL_KEYS and, on
// stdio, the console's reviewers and their scopes in
// $<PREFIX>_APPROVER_TOKENS.
func approvalFeature(cfg Config) feature {
	var mode, addr string
	check := func() error {
		switch mode {
		case "elicit", "deny":
		case "console":
			if addr == "" {
				return errors.New("-approver console needs -console ADDR")
			}
		default:
			return fmt.Errorf("-approver %q: want elicit, console or deny", mode)
		}
		if addr != "" {
			return checkApprovers(cfg)
		}
		return nil
	}
	return feature{
		name: "approval",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&mode, "approver", "elicit", "who approves high-impact calls: elicit (the user, in their MCP client), console (a reviewer at -console), or deny")
			fs.StringVar(&addr, "console", "", "serve the out-of-band approval console on this address (for example 127.0.0.1:8081); reviewers sign in like MCP callers with -http, else with the tokens in $"+cfg.ApproverTokensEnv())
		},
		check: check,
		setup: func(ctx context.Context, e *env) ([]mcpkit.Option, func(context.Context) error, error) {
			if err := check(); err != nil {
				return nil, nil, err
			}
			var console *approval.Console
			var cleanup func(context.Context) error
			if addr != "" {
				var err error
				console, cleanup, err = startConsole(ctx, cfg, e, addr)
				if err != nil {
					return nil, nil, err
				}
			}
			var a approval.Approver
			switch mode {
			case "elicit":
				el, err := elicitApprover(cfg, e, console)
				if err != nil {
					return nil, cleanup, err
				}
				a = el
				if console != nil {
					a = approval.FirstAvailable(el, console)
				}
			case "console":
				a = console
			case "deny":
				a = approval.AlwaysDeny("this server refuses calls that need approval (-approver deny)")
			}
			gopts := []approval.Option{approval.WithTimeout(cfg.ApprovalTimeout)}
			if e.auditor != nil {
				// Approvers see the arguments as the audit file has them.
				gopts = append(gopts, approval.WithRedactor(e.auditor.Redactor()))
			}
			gate, err := approval.New(a, gopts...)
			if err != nil {
				return nil, cleanup, err
			}
			return []mcpkit.Option{mcpkit.WithInnerMiddleware(gate)}, cleanup, nil
		},
	}
}

func elicitApprover(cfg Config, e *env, console *approval.Console) (approval.Approver, error) {
	name := cfg.ApprovalKeysEnv()
	keys, err := approval.ParseKeys(e.io.Getenv(name))
	if err != nil {
		return nil, fmt.Errorf("$%s: %w", name, err)
	}
	if len(keys) == 0 && e.shared != nil {
		return nil, fmt.Errorf("$%s is required with shared state: every replica must verify the in-client approval states any other replica signed; set the same keys on each (see approval.ParseKeys), or use -approver console", name)
	}
	if len(keys) == 0 {
		// One process, one key: states do not outlive it anyway.
		secret := make([]byte, approval.MinKeySize)
		_, _ = rand.Read(secret)
		keys = []approval.Key{{ID: "ephemeral", Secret: secret}}
		e.logger.Info("approval: signing in-client approvals with an ephemeral key; set " + name + " to share keys across replicas")
	}
	kr, err := approval.NewKeyring(keys...)
	if err != nil {
		return nil, err
	}
	hint := "Restart the server with -console ADDR to let a reviewer approve it out of band, or use a client that supports elicitation."
	if console != nil {
		hint = console.Hint()
	}
	ec := approval.ElicitConfig{Keys: kr, Hint: hint}
	if e.shared != nil {
		// Any replica may take the answer; each state is used once in
		// the fleet.
		ec.Replay = e.shared.Replay
	}
	return approval.Elicit(ec)
}

// startConsole serves the approval console on addr until cleanup. With
// -http, reviewers sign in with the same credentials as MCP callers (a
// static token or a JWT); on stdio, with the tokens in
// $<PREFIX>_APPROVER_TOKENS.
func startConsole(ctx context.Context, cfg Config, e *env, addr string) (*approval.Console, func(context.Context) error, error) {
	if err := checkApprovers(cfg); err != nil {
		return nil, nil, err
	}
	authenticate := approval.ReviewerResolver(e.authenticate)
	if e.authenticate == nil {
		name := cfg.ApproverTokensEnv()
		reviewers, err := parseReviewers(name, e.io.Getenv(name))
		if err != nil {
			return nil, nil, err
		}
		if len(reviewers) == 0 {
			e.logger.Warn("approval console: no reviewers configured; every console request will be refused with 401", "env", name)
		}
		for _, rv := range reviewers {
			if miss := rv.id.MissingScopes(cfg.Approvers.Scopes...); len(miss) > 0 {
				e.logger.Warn("approval console: a reviewer lacks the approver scopes and will be refused with 403", "env", name, "subject", rv.id.Subject, "missing", strings.Join(miss, " "))
			}
		}
		authenticate = reviewerAuthenticator(reviewers)
	}
	var onReview approval.ReviewHook
	if e.auditor != nil {
		onReview = approval.AuditReviews(e.auditor, &mcp.Implementation{Name: cfg.Name, Version: cfg.Version})
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("approval console: %w", err)
	}
	url := "http://" + ln.Addr().String() + "/"
	var store approval.Store
	if e.shared != nil {
		store = e.shared.Store // nil: in memory
	}
	keys, err := consoleKeys(cfg, e, store != nil)
	if err != nil {
		ln.Close()
		return nil, nil, err
	}
	console, err := approval.NewConsole(ctx, approval.ConsoleConfig{
		Store:        store,
		Keys:         keys,
		Authenticate: authenticate,
		Reviewers:    cfg.Approvers,
		OnReview:     onReview,
		URL:          url,
		Logger:       e.logger,
	})
	if err != nil {
		ln.Close()
		return nil, nil, err
	}
	hs := &http.Server{Handler: console, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.logger.Error("approval console stopped", "error", err)
		}
	}()
	e.logger.Info("approval console listening", "url", url)
	return console, hs.Shutdown, nil
}

// consoleKeys is the keyring that seals the console's requests and
// decisions: the keys in $<PREFIX>_APPROVAL_KEYS, required when the
// pending requests live in a shared store (whoever can write the database
// could otherwise approve calls). A console alone in its process seals
// nothing without them.
func consoleKeys(cfg Config, e *env, shared bool) (*approval.Keyring, error) {
	name := cfg.ApprovalKeysEnv()
	keys, err := approval.ParseKeys(e.io.Getenv(name))
	if err != nil {
		return nil, fmt.Errorf("$%s: %w", name, err)
	}
	if len(keys) == 0 {
		if shared {
			return nil, fmt.Errorf("$%s is required for the approval console with shared state: the replicas seal console requests and decisions with it, so that whoever can write the shared database cannot approve calls or change what reviewers see; set the same keys on each replica (see approval.ParseKeys)", name)
		}
		return nil, nil
	}
	return approval.NewKeyring(keys...)
}

// checkApprovers refuses a console without an approver rule: signing in
// must not be enough to approve.
func checkApprovers(cfg Config) error {
	if len(cfg.Approvers.Scopes) == 0 && len(cfg.Approvers.Groups) == 0 {
		return fmt.Errorf("-console: %s defines no approver rule (serve.Config.Approvers), so the console would let every signed-in user approve; name an approver scope such as %q", cfg.Name, cfg.Name+":approve")
	}
	return nil
}

type reviewer struct {
	token string
	id    mcpkit.Identity
}

// parseReviewers reads "subject=token scope scope,...": each reviewer's
// token, then the scopes they hold, separated by spaces.
func parseReviewers(env, s string) ([]reviewer, error) {
	var out []reviewer
	for _, part := range splitList(s) {
		sub, rest, ok := strings.Cut(part, "=")
		fields := strings.Fields(rest)
		if !ok || sub == "" || len(fields) == 0 || len(fields[0]) < 16 {
			return nil, fmt.Errorf("$%s: want subject=token pairs, each token of at least 16 characters followed by the reviewer's scopes separated by spaces", env)
		}
		out = append(out, reviewer{token: fields[0], id: mcpkit.Identity{
			Subject: sub, Scopes: fields[1:], AuthMethod: "static", Transport: "http",
		}})
	}
	return out, nil
}

// reviewerAuthenticator accepts "Authorization: Bearer <token>" for the
// configured reviewers.
func reviewerAuthenticator(reviewers []reviewer) approval.ReviewerResolver {
	return func(r *http.Request) (mcpkit.Identity, error) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if ok {
			for _, rv := range reviewers {
				if subtle.ConstantTimeCompare([]byte(tok), []byte(rv.token)) == 1 {
					return rv.id, nil
				}
			}
		}
		return mcpkit.Identity{}, errors.New("no valid reviewer token")
	}
}
