package flags

import (
	"errors"
	"fmt"
	"time"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

const (
	// Generous: a hung provider must not hold a call for long, but a busy
	// machine must not turn into spurious refusals either.
	defaultTimeout    = 2 * time.Second
	defaultMaxOverdue = 16
)

// Option configures a Gate. Options are resolved once, in NewGate, which
// returns an error for any option given an invalid value.
type Option func(*Gate)

// WithServerFlag adds one flag that gates every tool: when it is off, or
// cannot be evaluated, or is missing, every tool is hidden and refused.
// An empty key is an error.
func WithServerFlag(key string) Option {
	return func(g *Gate) {
		if key == "" {
			g.errs = append(g.errs, errors.New("flags: WithServerFlag needs a flag key, got an empty one"))
			return
		}
		g.serverKey = key
	}
}

// WithDefault sets whether tools of risk r are on when their flag does not
// exist in the provider. The defaults are on for ReadOnly, off for Write and
// Destructive. Only a missing flag uses this; any other failure is off.
// A risk other than ReadOnly, Write and Destructive is an error.
func WithDefault(r mcpkit.Risk, on bool) Option {
	return func(g *Gate) {
		if !r.Valid() {
			g.errs = append(g.errs, fmt.Errorf("flags: WithDefault needs ReadOnly, Write or Destructive, got risk %d", int(r)))
			return
		}
		g.defaults[r] = on
	}
}

// WithTimeout bounds one flag evaluation (default 2s). A provider that
// has not answered by then is treated as off for that call. A duration
// that is not positive is an error.
func WithTimeout(d time.Duration) Option {
	return func(g *Gate) {
		if d <= 0 {
			g.errs = append(g.errs, fmt.Errorf("flags: WithTimeout needs a positive duration, got %v", d))
			return
		}
		g.timeout = d
	}
}
