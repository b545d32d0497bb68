package audit

import (
	"errors"
	"log/slog"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Option configures the audit middleware. Options are resolved once, in
// New, which returns an error for any option given an invalid value.
type Option func(*config)

type config struct {
	redactor *Redactor
	failOpen bool
	tp       trace.TracerProvider
	mp       metric.MeterProvider
	logger   *slog.Logger
	refusals RefusalLimits
	// digestOnly names the tools whose result is recorded as its size
	// and SHA-256 instead of in full.
	digestOnly map[string]bool
	// errs are the invalid values options were given; New returns them.
	errs []error
}

// WithRedactor replaces the default redactor (NewRedactor()). A nil
// redactor is an error.
func WithRedactor(r *Redactor) Option {
	return func(c *config) {
		if r == nil {
			c.errs = append(c.errs, errors.New("audit: WithRedactor needs a redactor, got nil"))
			return
		}
		c.redactor = r
	}
}

// WithFailOpenReadOnly lets read-only calls (and calls to unknown tools)
// return their result when the sink cannot take their record. Each such
// record is counted (Auditor.Unwritten, metric mcpkit.audit.unwritten) and
// logged in full to the logger. Write and destructive calls always fail
// closed.
func WithFailOpenReadOnly() Option { return func(c *config) { c.failOpen = true } }

// WithTracerProvider sets where spans go (default: the global provider).
func WithTracerProvider(tp trace.TracerProvider) Option { return func(c *config) { c.tp = tp } }

// WithMeterProvider sets where metrics go (default: the global provider).
func WithMeterProvider(mp metric.MeterProvider) Option { return func(c *config) { c.mp = mp } }

// WithLogger sets where the middleware reports records it could not write
// (default: discarded).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithResultDigest records, for the named tools, the result's size and the
// SHA-256 of the exact bytes the client received instead of the result
// itself: {"digest_only":true,"length":N,"sha256":"..."}. Use it for tools
// whose results are large and whose content the record need not hold (a
// reviewer holding the result can still match it). Arguments and errors
// are recorded and redacted as usual. Recording the full, redacted result
// stays the default. An empty tool name is an error from New. Resource and
// prompt names (mcpkit.Resource.Name, mcpkit.Prompt.Name) are taken too:
// their digest is of the JSON of the contents or messages returned,
// {"contents":[...]} or {"messages":[...]}.
func WithResultDigest(tools ...string) Option {
	return func(c *config) {
		if c.digestOnly == nil {
			c.digestOnly = map[string]bool{}
		}
		for _, t := range tools {
			if t == "" {
				c.errs = append(c.errs, errors.New("audit: WithResultDigest needs tool names, got an empty one"))
				continue
			}
			c.digestOnly[t] = true
		}
	}
}
