package flags

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/open-feature/go-sdk/openfeature"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// Client is the part of an OpenFeature client the gate uses;
// *openfeature.Client implements it.
type Client interface {
	BooleanValueDetails(ctx context.Context, flag string, defaultValue bool, evalCtx openfeature.EvaluationContext, options ...openfeature.Option) (openfeature.BooleanEvaluationDetails, error)
	AddHandler(eventType openfeature.EventType, callback openfeature.EventCallback)
	RemoveHandler(eventType openfeature.EventType, callback openfeature.EventCallback)
}

// Gate is an mcpkit.Gate that asks an OpenFeature client whether a tool is
// on for the caller. Install it with mcpkit.WithGates: a tool whose flag is
// off is absent from tools/list and its calls are refused (denied_flag).
type Gate struct {
	client    Client
	serverKey string
	defaults  [mcpkit.Destructive + 1]bool
	timeout   time.Duration
	// overdue counts evaluations still running past their deadline; past
	// maxOverdue the provider is treated as unresponsive without starting
	// more, so a hung provider cannot pile up goroutines.
	overdue    atomic.Int64
	maxOverdue int64
}

// FlagKey is the flag that gates t: its policy's FlagKey, else
// "tool.<name>" for a tool, "resource.<name>" for a resource or resource
// template and "prompt.<name>" for a prompt.
func FlagKey(t *mcpkit.ToolInfo) string {
	if t.Policy.FlagKey != "" {
		return t.Policy.FlagKey
	}
	return t.Kind.Noun() + "." + t.Name
}

// NewGate returns a gate evaluating flags with client. Pass a client from an
// API instance you own (isolated.NewAPI), or the global one
// (openfeature.NewDefaultClient) if the process configures that. A nil
// client or an invalid option is an error.
func NewGate(client Client, opts ...Option) (*Gate, error) {
	if client == nil {
		return nil, errors.New("flags: NewGate needs an OpenFeature client")
	}
	if c, ok := client.(*openfeature.Client); ok && c == nil {
		return nil, errors.New("flags: NewGate needs an OpenFeature client (got a nil *openfeature.Client)")
	}
	cfg := config{timeout: defaultTimeout}
	cfg.defaults[mcpkit.ReadOnly] = true
	for i, o := range opts {
		if o == nil {
			cfg.errs = append(cfg.errs, fmt.Errorf("flags: NewGate: option %d is nil", i))
			continue
		}
		o(&cfg)
	}
	if err := errors.Join(cfg.errs...); err != nil {
		return nil, err
	}
	return &Gate{client: client, serverKey: cfg.serverKey, defaults: cfg.defaults, timeout: cfg.timeout, maxOverdue: defaultMaxOverdue}, nil
}

// MustNewGate is NewGate for tests and examples; it panics on a
// configuration error.
func MustNewGate(client Client, opts ...Option) *Gate {
	g, err := NewGate(client, opts...)
	if err != nil {
		panic(err)
	}
	return g
}

// Check implements mcpkit.Gate. It evaluates the server-wide flag, if one
// is configured, then the tool's flag, with the caller as the evaluation
// context. It returns nil to allow, else an *mcpkit.Error with
// CodeDeniedFlag whose cause is a *Denial.
func (g *Gate) Check(ctx context.Context, c *mcpkit.Call) error {
	ec := EvaluationContext(c)
	if g.serverKey != "" {
		if err := g.decide(ctx, c, g.serverKey, ec, false); err != nil {
			return err
		}
	}
	return g.decide(ctx, c, FlagKey(c.Tool), ec, g.missingDefault(c.Tool.Policy.Risk))
}

func (g *Gate) missingDefault(r mcpkit.Risk) bool {
	if !r.Valid() {
		return false
	}
	return g.defaults[r]
}

// decide evaluates one flag and turns anything but a clean true into a
// denial.
func (g *Gate) decide(ctx context.Context, c *mcpkit.Call, key string, ec openfeature.EvaluationContext, missingOn bool) error {
	d, err := g.evaluate(ctx, key, ec)
	if err == nil {
		if d.Value {
			return nil
		}
		return g.deny(c, &Denial{FlagKey: key, Reason: ReasonOff, Variant: d.Variant, EvalReason: string(d.Reason)})
	}
	den := &Denial{FlagKey: key, Variant: d.Variant, EvalReason: string(d.Reason), Err: err}
	switch code := errorCode(d, err); {
	case errors.Is(err, errTimeout):
		den.Reason = ReasonTimeout
	case errors.Is(err, errPanic):
		den.Reason = ReasonPanic
	case errors.Is(err, errUnresponsive):
		den.Reason = ReasonTimeout
	case code == openfeature.FlagNotFoundCode:
		if missingOn {
			return nil
		}
		den.Reason = ReasonMissing
	case code == openfeature.ProviderNotReadyCode, code == openfeature.ProviderFatalCode:
		den.Reason = ReasonNotReady
	case code == openfeature.TypeMismatchCode:
		den.Reason = ReasonTypeMismatch
	case ctx.Err() != nil:
		den.Reason = ReasonCanceled
	default:
		den.Reason = ReasonError
	}
	return g.deny(c, den)
}

func errorCode(d openfeature.BooleanEvaluationDetails, err error) openfeature.ErrorCode {
	if d.ErrorCode != "" {
		return d.ErrorCode
	}
	switch {
	case errors.Is(err, openfeature.ProviderNotReadyError):
		return openfeature.ProviderNotReadyCode
	case errors.Is(err, openfeature.ProviderFatalError):
		return openfeature.ProviderFatalCode
	}
	return ""
}

func (g *Gate) deny(c *mcpkit.Call, d *Denial) error {
	var msg string
	switch d.Reason {
	case ReasonOff, ReasonMissing:
		msg = fmt.Sprintf("%s is not enabled for you: feature flag %s is off", c.Tool.Label(), d.FlagKey)
	default:
		msg = fmt.Sprintf("%s is unavailable: feature flag %s could not be evaluated, so the call was refused", c.Tool.Label(), d.FlagKey)
	}
	return mcpkit.NewError(mcpkit.CodeDeniedFlag, msg, d)
}

var (
	errTimeout      = errors.New("flag evaluation timed out")
	errPanic        = errors.New("flag provider panicked")
	errUnresponsive = errors.New("flag provider unresponsive: earlier evaluations are still running past their deadline")
)

type evalResult struct {
	d   openfeature.BooleanEvaluationDetails
	err error
}

// evaluate runs one evaluation with a deadline, on its own goroutine so
// that a provider that ignores its context, hangs or panics costs at most
// the timeout and fails closed.
func (g *Gate) evaluate(ctx context.Context, key string, ec openfeature.EvaluationContext) (openfeature.BooleanEvaluationDetails, error) {
	if g.overdue.Load() >= g.maxOverdue {
		return openfeature.BooleanEvaluationDetails{}, errUnresponsive
	}
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	ch := make(chan evalResult, 1)
	// state: 0 running, 1 answered, 2 abandoned at the deadline.
	var state atomic.Int32
	go func() {
		defer func() {
			if v := recover(); v != nil {
				ch <- evalResult{err: fmt.Errorf("%w: %v", errPanic, v)}
			}
			if !state.CompareAndSwap(0, 1) {
				g.overdue.Add(-1)
			}
		}()
		d, err := g.client.BooleanValueDetails(ctx, key, false, ec)
		ch <- evalResult{d, err}
	}()
	select {
	case r := <-ch:
		return r.d, r.err
	case <-ctx.Done():
		if !state.CompareAndSwap(0, 2) {
			r := <-ch // it answered at the deadline: take the answer
			return r.d, r.err
		}
		g.overdue.Add(1)
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return openfeature.BooleanEvaluationDetails{}, fmt.Errorf("%w after %v", errTimeout, g.timeout)
		}
		return openfeature.BooleanEvaluationDetails{}, ctx.Err()
	}
}
