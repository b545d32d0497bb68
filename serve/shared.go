package serve

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"regexp"
	"strings"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/ratelimit"
)

// Shared is the state the replicas of a fleet share, so that any replica
// can serve any request: what Config.SharedState connects to.
type Shared struct {
	// Replay makes in-client approval states single use across the
	// fleet. Required: with keys shared by every replica, a per-replica
	// cache would accept one state once per replica.
	Replay approval.ReplayCache
	// Store holds the approval console's pending requests, so that every
	// replica's console lists them all. A store that also delivers a
	// decision to the replica whose call waits (see the approval package)
	// lets a reviewer approve through any replica. Nil: each replica's
	// console holds its own requests in memory.
	Store approval.Store
	// Limiter counts the -rate-limit calls of the whole fleet. Nil: each
	// replica counts in memory and grants the full limit.
	Limiter ratelimit.Limiter
	// Close, if not nil, releases the connections after the server
	// stopped.
	Close func()
}

// SharedStateParams is what a SharedStateFunc is given.
type SharedStateParams struct {
	// URL is the connection URL from -shared-state or
	// $<PREFIX>_SHARED_STATE. It is a secret (it may hold a password):
	// never log it or put it in an error.
	URL string
	// Instance is this replica's id (-instance-id): unique in the fleet,
	// stable across its restarts.
	Instance string
	// Logger is the server's logger.
	Logger *slog.Logger
}

// SharedStateFunc connects a replica to the fleet's shared state. serve
// calls it once, before any other feature is set up, only when a URL was
// given; an error stops the server before it serves.
type SharedStateFunc func(ctx context.Context, p SharedStateParams) (Shared, error)

// SharedStateEnv names the variable that holds the shared-state URL when
// -shared-state is not given: <PREFIX>_SHARED_STATE.
func (c Config) SharedStateEnv() string { return c.withDefaults().EnvPrefix + "_SHARED_STATE" }

// instanceID is what -instance-id may be: it names the replica in logs,
// audit records and the shared state.
var instanceID = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$`)

// sharedFeature connects to the fleet's shared state when
// Config.SharedState is set and a URL is given (-shared-state URL, or
// $<PREFIX>_SHARED_STATE so that a password stays out of process
// listings). It is set up first, so that a database that cannot be
// reached stops the server before a port is bound. The approval and
// rate-limit features take what it connected to. A fleet signs in-client
// approval states with keys every replica holds, so with -approver elicit
// $<PREFIX>_APPROVAL_KEYS is required with it.
func sharedFeature(cfg Config) feature {
	var flagURL, instance string
	var replicas int
	check := func() error {
		if replicas < 1 {
			return fmt.Errorf("-replicas %d: want the number of replicas sharing the state, at least 1", replicas)
		}
		if instance != "" && !instanceID.MatchString(instance) {
			return fmt.Errorf("-instance-id %q: use 1 to 64 characters of A-Z a-z 0-9 . _ -, not starting with '.'", instance)
		}
		return nil
	}
	return feature{
		name: "shared state",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&instance, "instance-id", "", "this replica's `ID`, unique in the fleet and stable across restarts (default: the host name)")
			if cfg.SharedState != nil {
				fs.StringVar(&flagURL, "shared-state", "", "connect to the state the replicas of a fleet share at `URL` (approval states, console requests, rate limits); prefer $"+cfg.SharedStateEnv()+", which stays out of process listings")
				fs.IntVar(&replicas, "replicas", 1, "how many replicas share the state: while it is unreachable, each grants read-only calls 1/`N` of each -rate-limit and refuses the others")
			} else {
				replicas = 1
			}
		},
		check: check,
		setup: func(ctx context.Context, e *env) ([]mcpkit.Option, func(context.Context) error, error) {
			if instance == "" {
				instance = defaultInstance()
			}
			e.instance = instance
			if cfg.SharedState == nil {
				return nil, nil, nil
			}
			u := flagURL
			if u == "" {
				u = e.io.Getenv(cfg.SharedStateEnv())
			} else if hasPassword(u) {
				e.logger.Warn("-shared-state: the URL holds a password, which process listings show; set $" + cfg.SharedStateEnv() + " instead")
			}
			if u == "" {
				return nil, nil, nil
			}
			sh, err := cfg.SharedState(ctx, SharedStateParams{URL: u, Instance: instance, Logger: e.logger})
			var cleanup func(context.Context) error
			if sh.Close != nil {
				cleanup = func(context.Context) error { sh.Close(); return nil }
			}
			if err != nil {
				return nil, cleanup, fmt.Errorf("connecting to the shared state: %w", scrub(err, u))
			}
			if sh.Replay == nil {
				return nil, cleanup, errors.New("Config.SharedState returned no Shared.Replay: in-client approval states must be single use across the fleet")
			}
			e.shared = &sh
			e.replicas = replicas
			var perReplica []string
			if sh.Store == nil {
				perReplica = append(perReplica, "console requests")
			}
			if sh.Limiter == nil {
				perReplica = append(perReplica, "rate limits")
			}
			e.logger.Info("shared state connected", "instance", instance, "per_replica", strings.Join(perReplica, ","))
			return nil, cleanup, nil
		},
	}
}

// defaultInstance is the host name, cut and cleaned to an instance id.
func defaultInstance() string {
	host, _ := os.Hostname()
	var b strings.Builder
	for _, c := range host {
		if b.Len() == 64 {
			break
		}
		if c < 0x80 && (c == '-' || c == '_' || c == '.' && b.Len() > 0 || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			b.WriteRune(c)
		} else {
			b.WriteByte('-')
		}
	}
	if b.Len() == 0 {
		return "replica"
	}
	return b.String()
}

// hasPassword reports whether a connection URL or key=value string holds
// a password.
func hasPassword(s string) bool {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			return true
		}
	}
	return strings.Contains(strings.ToLower(s), "password=")
}

// scrub returns err with the connection URL and its password replaced:
// an error ends up in logs and on the terminal, the URL must not.
func scrub(err error, secret string) error {
	msg := err.Error()
	words := []string{secret}
	if u, perr := url.Parse(secret); perr == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok {
			words = append(words, pw, url.QueryEscape(pw))
		}
	}
	for _, f := range strings.Fields(secret) {
		if k, v, ok := strings.Cut(f, "="); ok && strings.EqualFold(k, "password") {
			words = append(words, strings.Trim(v, `'`))
		}
	}
	changed := false
	for _, w := range words {
		if len(w) >= 4 && strings.Contains(msg, w) {
			msg, changed = strings.ReplaceAll(msg, w, "[REDACTED]"), true
		}
	}
	if !changed {
		return err
	}
	return errors.New(msg)
}
