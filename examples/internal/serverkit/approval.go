package serverkit

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

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// ApprovalFeature puts the human-approval gate after validation, in front
// of every tool whose Policy asks for approval (a server of read-only tools
// never triggers it; it is wired anyway, so that every server has the same
// surface).
//
//	-approver elicit   ask the user in their MCP client (default); with
//	                   -console, clients that cannot elicit fall back to it
//	-approver console  wait for a reviewer in the console at -console ADDR
//	-approver deny     refuse every call that needs approval
//
// A call nobody answers within Config.ApprovalTimeout is denied. Secrets
// come from the environment, never from flags (which show in process
// listings): the HMAC keys in $<PREFIX>_APPROVAL_KEYS and, on stdio, the
// console's reviewers in $<PREFIX>_APPROVER_TOKENS.
func ApprovalFeature(cfg Config) Feature {
	cfg = cfg.withDefaults()
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
		return nil
	}
	return Feature{
		Name: "approval",
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&mode, "approver", "elicit", "who approves high-impact calls: elicit (the user, in their MCP client), console (a reviewer at -console), or deny")
			fs.StringVar(&addr, "console", "", "serve the out-of-band approval console on this address (for example 127.0.0.1:8081); reviewers sign in like MCP callers with -http, else with the tokens in $"+cfg.ApproverTokensEnv())
		},
		Check: check,
		Setup: func(ctx context.Context, e *Env) ([]mcpkit.Option, func(context.Context) error, error) {
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
			gate, err := approval.New(a, approval.WithTimeout(cfg.ApprovalTimeout))
			if err != nil {
				return nil, cleanup, err
			}
			return []mcpkit.Option{mcpkit.WithInnerMiddleware(gate)}, cleanup, nil
		},
	}
}

func elicitApprover(cfg Config, e *Env, console *approval.Console) (approval.Approver, error) {
	name := cfg.ApprovalKeysEnv()
	keys, err := approval.ParseKeys(e.getenv(name))
	if err != nil {
		return nil, fmt.Errorf("$%s: %w", name, err)
	}
	if len(keys) == 0 {
		// One process, one key: states do not outlive it anyway.
		secret := make([]byte, approval.MinKeySize)
		_, _ = rand.Read(secret)
		keys = []approval.Key{{ID: "ephemeral", Secret: secret}}
		e.logger().Info("approval: signing in-client approvals with an ephemeral key; set " + name + " to share keys across replicas")
	}
	kr, err := approval.NewKeyring(keys...)
	if err != nil {
		return nil, err
	}
	hint := "Restart the server with -console ADDR to let a reviewer approve it out of band, or use a client that supports elicitation."
	if console != nil {
		hint = console.Hint()
	}
	return approval.Elicit(approval.ElicitOptions{Keys: kr, Hint: hint})
}

// startConsole serves the approval console on addr until cleanup. With
// -http, reviewers sign in with the same credentials as MCP callers (a
// static token or a JWT); on stdio, with the tokens in
// $<PREFIX>_APPROVER_TOKENS.
func startConsole(ctx context.Context, cfg Config, e *Env, addr string) (*approval.Console, func(context.Context) error, error) {
	authenticate := approval.Authenticator(e.authenticate)
	if e.authenticate == nil {
		name := cfg.ApproverTokensEnv()
		reviewers, err := parseReviewers(name, e.getenv(name))
		if err != nil {
			return nil, nil, err
		}
		if len(reviewers) == 0 {
			e.logger().Warn("approval console: no reviewers configured; every console request will be refused with 401", "env", name)
		}
		authenticate = reviewerAuthenticator(reviewers)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("approval console: %w", err)
	}
	url := "http://" + ln.Addr().String() + "/"
	console, err := approval.NewConsole(ctx, approval.ConsoleOptions{
		Authenticate: authenticate,
		URL:          url,
		Logger:       e.logger(),
	})
	if err != nil {
		ln.Close()
		return nil, nil, err
	}
	hs := &http.Server{Handler: console, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.logger().Error("approval console stopped", "error", err)
		}
	}()
	e.logger().Info("approval console listening", "url", url)
	return console, hs.Shutdown, nil
}

type reviewer struct{ subject, token string }

func parseReviewers(env, s string) ([]reviewer, error) {
	var out []reviewer
	for _, part := range SplitList(s) {
		sub, tok, ok := strings.Cut(part, "=")
		if !ok || sub == "" || len(tok) < 16 {
			return nil, fmt.Errorf("$%s: want subject=token pairs with tokens of at least 16 characters", env)
		}
		out = append(out, reviewer{subject: sub, token: tok})
	}
	return out, nil
}

// reviewerAuthenticator accepts "Authorization: Bearer <token>" for the
// configured reviewers.
func reviewerAuthenticator(reviewers []reviewer) approval.Authenticator {
	return func(r *http.Request) (mcpkit.Identity, error) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if ok {
			for _, rv := range reviewers {
				if subtle.ConstantTimeCompare([]byte(tok), []byte(rv.token)) == 1 {
					return mcpkit.Identity{Subject: rv.subject, AuthMethod: "static", Transport: "http"}, nil
				}
			}
		}
		return mcpkit.Identity{}, errors.New("no valid reviewer token")
	}
}
