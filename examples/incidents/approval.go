package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// Environment variables the approval feature reads (secrets stay out of
// flags, which show in process listings).
const (
	// envApprovalKeys holds the HMAC keys that sign in-client approval
	// states: "id:base64secret,..." oldest first; the last one signs.
	envApprovalKeys = "INCIDENTS_APPROVAL_KEYS"
	// envApproverTokens holds the console's reviewers:
	// "subject=token,...".
	envApproverTokens = "INCIDENTS_APPROVER_TOKENS"
)

// approvalFeature puts the human-approval gate in front of delete_incident
// (always) and resolve_incident (severity 1).
//
//	-approver elicit   ask the user in their MCP client (default); with
//	                   -console, clients that cannot elicit fall back to it
//	-approver console  wait for a reviewer in the console at -console ADDR
//	-approver deny     refuse every call that needs approval
func approvalFeature() feature {
	var mode, addr string
	return feature{
		name: "approval",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&mode, "approver", "elicit", "who approves high-impact calls: elicit (the user, in their MCP client), console (a reviewer at -console), or deny")
			fs.StringVar(&addr, "console", "", "serve the out-of-band approval console on this address (for example 127.0.0.1:8081); reviewers sign in like MCP callers with -http, else with the tokens in $"+envApproverTokens)
		},
		setup: func(ctx context.Context, e *env) ([]mcpkit.Option, func(context.Context) error, error) {
			var console *approval.Console
			var cleanup func(context.Context) error
			if addr != "" {
				var err error
				console, cleanup, err = startConsole(ctx, e, addr)
				if err != nil {
					return nil, nil, err
				}
			}
			var a approval.Approver
			switch mode {
			case "elicit":
				el, err := elicitApprover(e, console)
				if err != nil {
					return nil, cleanup, err
				}
				a = el
				if console != nil {
					a = approval.FirstAvailable(el, console)
				}
			case "console":
				if console == nil {
					return nil, nil, errors.New("-approver console needs -console ADDR")
				}
				a = console
			case "deny":
				a = approval.AlwaysDeny("this server refuses calls that need approval (-approver deny)")
			default:
				return nil, cleanup, fmt.Errorf("-approver %q: want elicit, console or deny", mode)
			}
			gate, err := approval.New(a, approval.WithTimeout(5*time.Minute))
			if err != nil {
				return nil, cleanup, err
			}
			return []mcpkit.Option{mcpkit.WithInnerMiddleware(gate)}, cleanup, nil
		},
	}
}

func elicitApprover(e *env, console *approval.Console) (approval.Approver, error) {
	keys, err := approval.ParseKeys(os.Getenv(envApprovalKeys))
	if err != nil {
		return nil, fmt.Errorf("$%s: %w", envApprovalKeys, err)
	}
	if len(keys) == 0 {
		// One process, one key: states do not outlive it anyway.
		secret := make([]byte, approval.MinKeySize)
		_, _ = rand.Read(secret)
		keys = []approval.Key{{ID: "ephemeral", Secret: secret}}
		e.logger.Info("approval: signing in-client approvals with an ephemeral key; set " + envApprovalKeys + " to share keys across replicas")
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
// $INCIDENTS_APPROVER_TOKENS.
func startConsole(ctx context.Context, e *env, addr string) (*approval.Console, func(context.Context) error, error) {
	authenticate := approval.Authenticator(e.authenticate)
	if e.authenticate == nil {
		reviewers, err := parseTokens(os.Getenv(envApproverTokens))
		if err != nil {
			return nil, nil, err
		}
		if len(reviewers) == 0 {
			e.logger.Warn("approval console: no reviewers configured; every console request will be refused with 401", "env", envApproverTokens)
		}
		authenticate = tokenAuthenticator(reviewers)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("approval console: %w", err)
	}
	url := "http://" + ln.Addr().String() + "/"
	console, err := approval.NewConsole(ctx, approval.ConsoleOptions{
		Authenticate: authenticate,
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

type reviewer struct{ subject, token string }

func parseTokens(s string) ([]reviewer, error) {
	var out []reviewer
	for _, part := range splitList(s) {
		sub, tok, ok := strings.Cut(part, "=")
		if !ok || sub == "" || len(tok) < 16 {
			return nil, fmt.Errorf("$%s: want subject=token pairs with tokens of at least 16 characters", envApproverTokens)
		}
		out = append(out, reviewer{subject: sub, token: tok})
	}
	return out, nil
}

// tokenAuthenticator accepts "Authorization: Bearer <token>" for the
// configured reviewers.
func tokenAuthenticator(reviewers []reviewer) approval.Authenticator {
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
