package serve

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"net/http"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/ratelimit"
)

// feature is one concern of a server: its command-line flags and the
// server options it contributes.
type feature struct {
	name  string
	flags func(fs *flag.FlagSet)
	// check, if not nil, validates the parsed flags before anything is
	// opened or connected, so that a bad command line fails fast.
	check func() error
	// setup runs once flags are parsed and checked. cleanup, if not nil,
	// runs after the server stops, also when setup failed.
	setup func(ctx context.Context, e *env) (opts []mcpkit.Option, cleanup func(context.Context) error, err error)
	// started, if not nil, runs once the server exists, before it serves;
	// the function it returns, if not nil, runs when the server stops.
	started func(srv *mcpkit.Server) (stop func())
}

// env is what features hand to each other while they are set up.
type env struct {
	logger *slog.Logger
	io     IO

	// serve is set by the transport feature: it serves srv until ctx ends
	// (or, on stdio, until the client closes stdin).
	serve func(ctx context.Context, srv *mcpkit.Server) error
	// auditor is set by the audit feature; the transport records the
	// requests it refuses with it.
	auditor *audit.Auditor
	// telemetry is set by the audit feature when Config.Telemetry gave one.
	telemetry *Telemetry
	// authenticate is set by the transport feature when HTTP callers
	// authenticate; the approval console accepts the same credentials.
	authenticate func(r *http.Request) (mcpkit.Identity, error)
	// rateGate is set by the rate-limit feature; the HTTP transport
	// answers 429 for it.
	rateGate *ratelimit.Gate
	// instance is this replica's id (-instance-id), set by the shared
	// state feature.
	instance string
	// shared is set by the shared state feature when the server runs in
	// a fleet.
	shared *Shared
	// replicas is how many replicas share the state (-replicas): while
	// the shared limiter fails, each grants read-only calls 1/replicas of
	// each limit.
	replicas int
}

// features returns the features in the order they are set up:
// shared state, transport, rate limit (its gate first), audit, flags,
// approval.
func features(cfg Config) []feature {
	return []feature{sharedFeature(cfg), transportFeature(cfg), rateLimitFeature(cfg), auditFeature(cfg), flagsFeature(cfg), approvalFeature(cfg)}
}

// FlagSet is the complete command line of a server built on cfg: serve's
// flags and cfg.Flags. New and Run parse exactly this set; a test can use
// it to check that the arguments in a client's configuration file parse.
func FlagSet(cfg Config) *flag.FlagSet {
	fs, _ := flagSet(cfg.withDefaults(), io.Discard)
	return fs
}

func flagSet(cfg Config, stderr io.Writer) (*flag.FlagSet, []feature) {
	fs := flag.NewFlagSet(cfg.Name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fts := features(cfg)
	for _, f := range fts {
		if f.flags != nil {
			f.flags(fs)
		}
	}
	if cfg.Flags != nil {
		cfg.Flags(fs)
	}
	return fs, fts
}
