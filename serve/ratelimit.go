package serve

import (
	"context"
	"flag"
	"fmt"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/ratelimit"
)

// rateLimitFeature limits calls per caller with -rate-limit SPEC (see
// ratelimit.ParseRules), in this process's memory or in the limiter the
// shared state (Shared.Limiter, first) or Config.RateLimiter supplies. Its
// gate is the first gate, before the scopes and the flags, so that refused
// calls count; over HTTP the transport answers 429 with Retry-After for
// it. Without -rate-limit nothing is limited.
func rateLimitFeature(cfg Config) feature {
	var spec string
	var rules ratelimit.Rules
	return feature{
		name: "rate-limit",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&spec, "rate-limit", "", "per-caller rate limits `SPEC`, e.g. read_only=20/s,write=5/m,destructive=2/m,tool:delete_incident=1/m; empty limits nothing")
		},
		check: func() error {
			if spec == "" {
				return nil
			}
			var err error
			if rules, err = ratelimit.ParseRules(spec); err != nil {
				return fmt.Errorf("-rate-limit: %w", err)
			}
			return nil
		},
		setup: func(ctx context.Context, e *env) ([]mcpkit.Option, func(context.Context) error, error) {
			if spec == "" {
				return nil, nil, nil
			}
			var limiter ratelimit.Limiter
			where := "shared: Config.RateLimiter"
			var gopts []ratelimit.Option
			switch {
			case e.shared != nil && e.shared.Limiter != nil:
				limiter, where = e.shared.Limiter, "shared: the fleet's shared state"
				// Read-only calls go on while the shared state is down, at
				// this replica's share of each limit; the others are
				// refused (fail closed).
				gopts = append(gopts, ratelimit.WithFallback(e.replicas, mcpkit.ReadOnly), ratelimit.WithLogger(e.logger))
			case cfg.RateLimiter != nil:
				var err error
				if limiter, err = cfg.RateLimiter(ctx); err != nil {
					return nil, nil, fmt.Errorf("-rate-limit: Config.RateLimiter: %w", err)
				}
			}
			if limiter == nil {
				m, err := ratelimit.NewMemory()
				if err != nil {
					return nil, nil, err
				}
				limiter, where = m, "in memory: each replica grants the full limit"
			}
			gate, err := ratelimit.NewGate(limiter, rules, gopts...)
			if err != nil {
				return nil, nil, fmt.Errorf("-rate-limit: %w", err)
			}
			e.rateGate = gate
			e.logger.Info("rate limits", "spec", rules.String(), "limiter", where)
			return []mcpkit.Option{mcpkit.WithGates(gate, mcpkit.ScopeGate())}, nil, nil
		},
	}
}
