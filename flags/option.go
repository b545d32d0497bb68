package flags

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

const (
	// Generous: a hung provider must not hold a call for long, but a busy
	// machine must not turn into spurious refusals either.
	defaultTimeout    = 2 * time.Second
	defaultMaxOverdue = 16
)

// Option configures a Gate. Options are resolved once, in NewGate; an
// invalid one makes NewGate return an error.
type Option func(*config)

// config is what the options set; NewGate copies it into the Gate.
type config struct {
	serverKey string
	defaults  [mcpkit.Destructive + 1]bool
	timeout   time.Duration
	errs      []error
}

// WithServerFlag adds one flag that gates every tool: when it is off, or
// cannot be evaluated, or is missing, every tool is hidden and refused. The
// key must not be empty.
func WithServerFlag(key string) Option {
	return func(c *config) {
		if strings.TrimSpace(key) == "" {
			c.errs = append(c.errs, errors.New("flags: WithServerFlag needs a flag key"))
			return
		}
		c.serverKey = key
	}
}

// WithDefault sets whether tools of risk r are on when their flag does not
// exist in the provider. The defaults are on for ReadOnly, off for Write and
// Destructive. Only a missing flag uses this; any other failure is off. r
// must be one of the three risks.
func WithDefault(r mcpkit.Risk, on bool) Option {
	return func(c *config) {
		if !r.Valid() {
			c.errs = append(c.errs, fmt.Errorf("flags: WithDefault: %d is not a risk (use mcpkit.ReadOnly, Write or Destructive)", int(r)))
			return
		}
		c.defaults[r] = on
	}
}

// WithTimeout bounds one flag evaluation (default 2s). A provider that has
// not answered by then is treated as off for that call. d must be positive.
func WithTimeout(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.errs = append(c.errs, fmt.Errorf("flags: WithTimeout needs a positive duration (got %v)", d))
			return
		}
		c.timeout = d
	}
}
