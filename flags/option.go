package flags

import (
	"time"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

const (
	// Generous: a hung provider must not hold a call for long, but a busy
	// machine must not turn into spurious refusals either.
	defaultTimeout    = 2 * time.Second
	defaultMaxOverdue = 16
)

// Option configures a Gate. Options are resolved once, in NewGate.
type Option func(*Gate)

// WithServerFlag adds one flag that gates every tool: when it is off, or
// cannot be evaluated, or is missing, every tool is hidden and refused.
func WithServerFlag(key string) Option {
	return func(g *Gate) { g.serverKey = key }
}

// WithDefault sets whether tools of risk r are on when their flag does not
// exist in the provider. The defaults are on for ReadOnly, off for Write and
// Destructive. Only a missing flag uses this; any other failure is off.
func WithDefault(r mcpkit.Risk, on bool) Option {
	return func(g *Gate) {
		if r.Valid() {
			g.defaults[r] = on
		}
	}
}

// WithTimeout bounds one flag evaluation (default 2s). A provider that
// has not answered by then is treated as off for that call.
func WithTimeout(d time.Duration) Option {
	return func(g *Gate) {
		if d > 0 {
			g.timeout = d
		}
	}
}
