package approval

import (
	"errors"
	"fmt"
	"text/template"
	"time"

	"github.com/mcpkit-go/mcpkit/audit"
)

// DefaultTimeout is how long a call waits for a decision by default.
const DefaultTimeout = 5 * time.Minute

// DefaultProgressInterval is how often a waiting call reports progress.
const DefaultProgressInterval = 10 * time.Second

// Option configures the gate. Options are resolved once, in New, which
// returns an error for any option given an invalid value.
type Option func(*config)

type config struct {
	timeout   time.Duration
	progress  time.Duration
	summaries map[string]*template.Template
	redactor  *audit.Redactor
	// errs are the invalid values options were given; New returns them.
	errs []error
}

// WithTimeout sets how long a call waits for a decision; at the deadline it
// is denied (VerdictTimeout).
func WithTimeout(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.errs = append(c.errs, fmt.Errorf("approval: timeout must be positive, got %v", d))
			return
		}
		c.timeout = d
	}
}

// WithProgressInterval sets how often a call waiting for a decision sends a
// progress notification (when the client asked for progress).
func WithProgressInterval(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.errs = append(c.errs, fmt.Errorf("approval: progress interval must be positive, got %v", d))
			return
		}
		c.progress = d
	}
}

// WithSummary sets the text/template that renders the human-readable
// summary of a call to tool. The template sees .Tool, .Title, .Principal
// (an mcpkit.Identity), .Arguments (the redacted arguments as a map),
// .Input (the decoded input: do not print secret fields) and .Rule. For
// example:
//
//	approval.WithSummary("refund_order", "{{.Principal.Subject}} wants to refund ${{.Input.AmountUSD}} on order {{.Input.OrderID}}")
//
// A template that fails at call time falls back to the default summary.
func WithSummary(tool, text string) Option {
	return func(c *config) {
		t, err := template.New(tool).Option("missingkey=error").Parse(text)
		if err != nil {
			c.errs = append(c.errs, fmt.Errorf("approval: summary template for %s: %w", tool, err))
			return
		}
		c.summaries[tool] = t
	}
}

// WithRedactor sets the redactor that masks the arguments and summary every
// approver is shown (console, webhook, in-client prompt). Pass the one the
// audit middleware uses (Auditor.Redactor) so that reviewers see the
// arguments exactly as the audit record has them. Default:
// audit.NewRedactor(), the audit middleware's default. A nil redactor is
// an error.
func WithRedactor(r *audit.Redactor) Option {
	return func(c *config) {
		if r == nil {
			c.errs = append(c.errs, errors.New("approval: WithRedactor needs a redactor"))
			return
		}
		c.redactor = r
	}
}
