package serverkit

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// Config describes one server to Run. Only Name, Version and Scopes are
// required.
type Config struct {
	// Name and Version are reported to clients, in audit records and as
	// the OpenTelemetry service name and version.
	Name, Version string
	// Scopes is every scope the server's policies name: the local user's
	// default on stdio, the scopes_supported of the HTTP resource metadata
	// and the scopes of the -no-auth development identity.
	Scopes []string
	// AuditFile is the default of -audit (default "<Name>-audit.jsonl").
	AuditFile string
	// EnvPrefix prefixes the approval environment variables (default
	// Name upper-cased): <PREFIX>_APPROVAL_KEYS, <PREFIX>_APPROVER_TOKENS.
	EnvPrefix string
	// ApprovalTimeout is how long a call waits for approval before it is
	// denied (default 5 minutes).
	ApprovalTimeout time.Duration
	// Approvers is who may see and decide requests in the approval
	// console (-console): the scopes a reviewer must hold, for example
	// "<name>:approve", and with ToolScopes the tool's own scopes too.
	// A server without one refuses to start a console.
	Approvers approval.ReviewerRule
	// Flags, if set, registers the server's own flags.
	Flags func(fs *flag.FlagSet)
	// Check, if set, validates the server's own flags once parsed.
	Check func() error
	// Prepare, if set, runs after the flags are checked and before any
	// feature is set up: connect to the system the tools expose, so that a
	// bad connection fails before files are opened or ports bound. close,
	// if not nil, runs after the server stopped and the features cleaned
	// up.
	Prepare func(ctx context.Context, logger *slog.Logger) (close func(), err error)
}

func (c Config) withDefaults() Config {
	if c.AuditFile == "" {
		c.AuditFile = c.Name + "-audit.jsonl"
	}
	if c.EnvPrefix == "" {
		c.EnvPrefix = strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(c.Name))
	}
	if c.ApprovalTimeout <= 0 {
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

// Build creates the server with the options the features contribute (and
// mcpkit.WithLogger(logger)); it registers the tools. It runs once per Run,
// after every feature is set up.
type Build func(ctx context.Context, logger *slog.Logger, opts ...mcpkit.Option) (*mcpkit.Server, error)

// IO is the process's standard streams and environment; tests replace
// them. Nil fields mean the process's own.
type IO struct {
	Stdin  io.Reader
	Stdout io.Writer
	// Stderr receives the log and flag errors; stdout carries nothing but
	// the protocol.
	Stderr io.Writer
	// Getenv reads the approval variables (default os.Getenv).
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

// Env is what a feature's setup may use and what features hand to each
// other (the transport's authenticator to the approval console, the
// auditor to the transport's refusals).
type Env struct {
	Logger *slog.Logger
	IO     IO

	// serve is set by the transport feature: it serves srv until ctx ends
	// (or, on stdio, until the client closes stdin).
	serve func(ctx context.Context, srv *mcpkit.Server) error
	// auditor is set by the audit feature; the transport records the
	// requests it refuses with it.
	auditor *audit.Auditor
	// authenticate is set by the transport feature when HTTP callers
	// authenticate; the approval console accepts the same credentials.
	authenticate func(r *http.Request) (mcpkit.Identity, error)
}

func (e *Env) getenv(k string) string {
	if e.IO.Getenv == nil {
		return os.Getenv(k)
	}
	return e.IO.Getenv(k)
}

func (e *Env) logger() *slog.Logger {
	if e.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Logger
}

// Feature is one concern of a server: its command-line flags and the
// server options it contributes.
type Feature struct {
	Name  string
	Flags func(fs *flag.FlagSet)
	// Check, if not nil, validates the parsed flags before anything is
	// opened or connected, so that a bad command line fails fast.
	Check func() error
	// Setup runs once flags are parsed and checked. cleanup, if not nil, runs after
	// the server stops.
	Setup func(ctx context.Context, e *Env) (opts []mcpkit.Option, cleanup func(context.Context) error, err error)
	// Started, if not nil, runs once the server exists, before it serves;
	// the function it returns, if not nil, runs when the server stops.
	Started func(srv *mcpkit.Server) (stop func())
}

// Features returns the four features in the order Run sets them up:
// transport, audit, flags, approval.
func Features(cfg Config) []Feature {
	cfg = cfg.withDefaults()
	return []Feature{TransportFeature(cfg), AuditFeature(cfg), FlagsFeature(cfg), ApprovalFeature(cfg)}
}

// FlagSet is the complete command line of a server built on cfg: the
// features' flags and cfg.Flags. Run parses exactly this set; tests use it
// to check that a client configuration's arguments parse.
func FlagSet(cfg Config) *flag.FlagSet {
	fs, _ := flagSet(cfg.withDefaults(), io.Discard)
	return fs
}

func flagSet(cfg Config, stderr io.Writer) (*flag.FlagSet, []Feature) {
	fs := flag.NewFlagSet(cfg.Name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fts := Features(cfg)
	for _, f := range fts {
		if f.Flags != nil {
			f.Flags(fs)
		}
	}
	if cfg.Flags != nil {
		cfg.Flags(fs)
	}
	return fs, fts
}

// Main runs the server with the process's arguments and streams until
// SIGINT or SIGTERM (or, on stdio, end of input), and exits 1 on error.
func Main(cfg Config, build Build) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := Run(ctx, cfg, os.Args[1:], IO{}, build)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", cfg.Name, err)
		os.Exit(1)
	}
}

// Run parses args, sets up the features, builds the server and serves it
// until ctx ends (or, on stdio, until the client closes stdin).
func Run(ctx context.Context, cfg Config, args []string, stdio IO, build Build) (err error) {
	if cfg.Name == "" || cfg.Version == "" || build == nil {
		return errors.New("serverkit: Config.Name, Config.Version and a Build function are required")
	}
	cfg = cfg.withDefaults()
	stdio = stdio.withDefaults()
	fs, fts := flagSet(cfg, stdio.Stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, f := range fts {
		if f.Check != nil {
			if err := f.Check(); err != nil {
				return err
			}
		}
	}
	if cfg.Check != nil {
		if err := cfg.Check(); err != nil {
			return err
		}
	}
	e := &Env{Logger: slog.New(slog.NewTextHandler(stdio.Stderr, nil)), IO: stdio}
	if cfg.Prepare != nil {
		closeFn, err := cfg.Prepare(ctx, e.Logger)
		if err != nil {
			return err
		}
		if closeFn != nil {
			defer closeFn()
		}
	}
	var cleanups []func(context.Context) error
	defer func() {
		// Cleanups (flushing audit, closing providers) get their own
		// deadline: the run context may already be cancelled.
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for i := len(cleanups) - 1; i >= 0; i-- {
			if cerr := cleanups[i](cctx); cerr != nil {
				e.Logger.Error("cleanup failed", "error", cerr)
			}
		}
	}()
	opts := []mcpkit.Option{mcpkit.WithLogger(e.Logger)}
	for _, f := range fts {
		if f.Setup == nil {
			continue
		}
		o, cleanup, err := f.Setup(ctx, e)
		if cleanup != nil {
			cleanups = append(cleanups, cleanup)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
		opts = append(opts, o...)
	}
	srv, err := build(ctx, e.Logger, opts...)
	if err != nil {
		return err
	}
	for _, f := range fts {
		if f.Started == nil {
			continue
		}
		if stop := f.Started(srv); stop != nil {
			defer stop()
		}
	}
	if e.serve == nil {
		return errors.New("no transport configured")
	}
	return e.serve(ctx, srv)
}

// SplitList splits a comma-separated flag value, dropping empty items.
func SplitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
