package serve

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/ratelimit"
)

// Config describes one server. Name, Version and Tools are required; every
// other field has a default.
type Config struct {
	// Name and Version are reported to clients, written in audit records
	// and used as the OpenTelemetry service name and version. Name also
	// names the flag set, the default audit file and the environment
	// variables (see EnvPrefix).
	Name, Version string
	// Title is the human-readable name reported to clients (optional).
	Title string
	// Scopes is every scope the server's policies name: the local user's
	// default on stdio (-scopes), the scopes_supported of the HTTP resource
	// metadata and the scopes of the -no-auth development identity.
	Scopes []string
	// Tools registers the server's tools on the server serve creates, with
	// mcpkit.AddTool. It runs once, after every feature is set up.
	Tools func(srv *mcpkit.Server) error
	// Options are extra server options, applied after serve's own.
	Options []mcpkit.Option

	// AuditFile is the default of -audit (default "<Name>-audit.jsonl").
	AuditFile string
	// EnvPrefix prefixes the approval environment variables (default Name
	// upper-cased, with - and . as _): <PREFIX>_APPROVAL_KEYS and
	// <PREFIX>_APPROVER_TOKENS.
	EnvPrefix string
	// ApprovalTimeout is how long a call waits for approval before it is
	// denied (default 5 minutes).
	ApprovalTimeout time.Duration
	// Approvers is who may see and decide requests in the approval console
	// (-console): the scopes or groups a reviewer must hold, for example
	// "<name>:approve", and with ToolScopes the tool's own scopes too. A
	// server without one refuses to start a console: signing in must not be
	// enough to approve.
	Approvers approval.ReviewerRule
	// Telemetry, if set, provides OpenTelemetry providers for the audit
	// spans, metrics and logs; it is called once at startup and may return
	// nil for "not configured". The subpackage serve/otlp has one that
	// exports over OTLP/HTTP when the standard OTEL_* variables say so.
	Telemetry TelemetryFunc
	// RateLimiter, if set, supplies the limiter that -rate-limit counts
	// calls in, for example one shared by every replica of a fleet
	// (pgstate.NewLimiter); without it, or when it returns nil, calls are
	// counted in this process's memory. It is called once, after Prepare
	// and only when -rate-limit is given; an error stops the server.
	RateLimiter func(ctx context.Context) (ratelimit.Limiter, error)
	// SharedState, if set, connects a replica to the state a fleet of
	// replicas shares (see Shared) and adds the -shared-state URL flag
	// (or $<PREFIX>_SHARED_STATE). Without a URL the server runs alone,
	// as without the hook. The pgstate module has one for PostgreSQL.
	SharedState SharedStateFunc

	// Flags, if set, registers the server's own flags.
	Flags func(fs *flag.FlagSet)
	// Check, if set, validates the server's own flags once parsed.
	Check func() error
	// Prepare, if set, runs after the flags are checked and before any
	// feature is set up: connect to the system the tools expose, so that a
	// bad connection fails before files are opened or ports bound. close,
	// if not nil, runs last, after the server stopped.
	Prepare func(ctx context.Context, logger *slog.Logger) (close func(), err error)
}

// validName is what Name may be: it becomes a file name, a flag set name
// and the prefix of environment variables.
var validName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9._-]*$`)

// check reports what is missing or wrong in c, in words a developer can act
// on.
func (c Config) check() error {
	var errs []error
	if !validName.MatchString(c.Name) {
		errs = append(errs, fmt.Errorf("Config.Name %q: want a name such as \"tickets\" (letters, digits, '.', '-', '_'; starting with a letter)", c.Name))
	}
	if c.Version == "" {
		errs = append(errs, errors.New("Config.Version is required (reported to clients and in audit records), e.g. \"0.1.0\""))
	}
	if c.Tools == nil {
		errs = append(errs, errors.New("Config.Tools is required: a func(*mcpkit.Server) error that registers the tools"))
	}
	if c.ApprovalTimeout < 0 {
		errs = append(errs, fmt.Errorf("Config.ApprovalTimeout %v is negative", c.ApprovalTimeout))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.AuditFile == "" {
		c.AuditFile = c.Name + "-audit.jsonl"
	}
	if c.EnvPrefix == "" {
		c.EnvPrefix = strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(c.Name))
	}
	if c.ApprovalTimeout == 0 {
		c.ApprovalTimeout = 5 * time.Minute
	}
	return c
}

// ApprovalKeysEnv names the variable holding the HMAC keys that sign
// in-client approval states: "id:base64secret,..." oldest first; the last
// one signs.
func (c Config) ApprovalKeysEnv() string { return c.withDefaults().EnvPrefix + "_APPROVAL_KEYS" }

// ApproverTokensEnv names the variable holding the approval console's
// reviewers on stdio: "subject=token scope scope,...", each reviewer's
// token followed by the scopes they hold, space-separated.
func (c Config) ApproverTokensEnv() string {
	return c.withDefaults().EnvPrefix + "_APPROVER_TOKENS"
}

// IO is the process's standard streams and environment; tests replace
// them. Nil fields mean the process's own.
type IO struct {
	Stdin  io.Reader
	Stdout io.Writer
	// Stderr receives the log and flag errors; stdout carries nothing but
	// the protocol.
	Stderr io.Writer
	// Getenv reads the environment (default os.Getenv): the approval
	// variables and the audit key.
	Getenv func(string) string
}

func (o IO) withDefaults() IO {
	if o.Stdin == nil {
		o.Stdin = os.Stdin
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	return o
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
