package ratelimit

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// Option configures NewGate.
type Option func(*gateConfig)

type gateConfig struct {
	fallback *fallbackConfig
	logger   *slog.Logger
	errs     []error
}

type fallbackConfig struct {
	replicas int
	risks    []mcpkit.Risk
}

// WithFallback keeps calls of the given risk classes going when the
// limiter fails (a shared store is unreachable or slow): they are decided
// by a limiter in this process's memory at 1/replicas of each limit, so
// that the fleet of replicas together still grants at most the limit
// (see Gate). Calls of the other classes are refused as unavailable, as
// without the option. replicas is how many replicas share the limit
// (at least 1); give the classes whose calls may go on, typically
// mcpkit.ReadOnly alone: a destructive call is better refused than let
// through under a limit nobody shares.
func WithFallback(replicas int, risks ...mcpkit.Risk) Option {
	return func(c *gateConfig) {
		var errs []error
		if replicas < 1 {
			errs = append(errs, fmt.Errorf("replicas %d must be at least 1", replicas))
		}
		if len(risks) == 0 {
			errs = append(errs, errors.New("name the risk classes decided locally, e.g. mcpkit.ReadOnly"))
		}
		for _, r := range risks {
			if !r.Valid() {
				errs = append(errs, fmt.Errorf("risk class %d is not ReadOnly, Write or Destructive", r))
			}
		}
		if c.fallback != nil {
			errs = append(errs, errors.New("given twice"))
		}
		if err := errors.Join(errs...); err != nil {
			c.errs = append(c.errs, fmt.Errorf("ratelimit: WithFallback: %w", err))
			return
		}
		c.fallback = &fallbackConfig{replicas: replicas, risks: risks}
	}
}

// WithLogger receives the fallback's warnings: one when the limiter fails
// and calls are decided locally, one when it decides again (default:
// discarded).
func WithLogger(l *slog.Logger) Option {
	return func(c *gateConfig) {
		if l == nil {
			c.errs = append(c.errs, errors.New("ratelimit: WithLogger: the logger is nil"))
			return
		}
		c.logger = l
	}
}
