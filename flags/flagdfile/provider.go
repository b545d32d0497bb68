package flagdfile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/open-feature/go-sdk/openfeature"
)

// ProviderName is the OpenFeature metadata name of Provider.
const ProviderName = "mcpkit-flagd-file"

const (
	defaultDebounce = 200 * time.Millisecond
	// maxDebounce keeps the promise that a change applies within a second.
	maxDebounce = 900 * time.Millisecond
)

// Provider is an OpenFeature provider that serves flags from a file in
// flagd's flag-definition format and reloads it when it changes.
//
// A file that cannot be read or is invalid at start leaves the provider
// without a configuration: Init returns the error (the provider's state is
// ERROR) and every evaluation fails with PROVIDER_NOT_READY, so a gate
// denies. An invalid change later keeps the last good configuration and
// emits PROVIDER_ERROR; a file is applied whole or not at all. Fixing the
// file recovers without a restart and emits PROVIDER_READY.
type Provider struct {
	path     string
	debounce time.Duration
	logger   *slog.Logger
	now      func() time.Time

	cfg    atomic.Pointer[flagFile]
	events chan openfeature.Event

	mu      sync.Mutex
	started bool
	stop    chan struct{}
	done    chan struct{}
	reloads sync.Mutex // one reload at a time
	lastErr string
}

// Option configures a Provider. Options are resolved once, in New; an
// invalid one makes New return an error.
type Option func(*config)

// config is what the options set; New copies it into the Provider.
type config struct {
	debounce time.Duration
	logger   *slog.Logger
	now      func() time.Time
	errs     []error
}

// WithDebounce sets how long the provider waits after the last change to
// the file before reloading it (default 200ms). d must be positive and at
// most 900ms, so that a change applies within a second.
func WithDebounce(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 || d > maxDebounce {
			c.errs = append(c.errs, fmt.Errorf("flagdfile: WithDebounce needs a duration above 0 and at most %v (got %v)", maxDebounce, d))
			return
		}
		c.debounce = d
	}
}

// WithLogger sets where the provider reports reloads and rejected files.
// The default discards them; events carry the same information.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l == nil {
			c.errs = append(c.errs, errors.New("flagdfile: WithLogger needs a logger (omit the option to discard the messages)"))
			return
		}
		c.logger = l
	}
}

// withClock sets the clock behind $flagd.timestamp; tests reach it through
// export_test.go, so the public API has no test-only option.
func withClock(now func() time.Time) Option {
	return func(c *config) {
		if now == nil {
			c.errs = append(c.errs, errors.New("flagdfile: withClock needs a clock function"))
			return
		}
		c.now = now
	}
}

// New returns a provider for the flag file at path. Nothing is read until
// the OpenFeature API initialises it (SetProviderAndWait), so the file may
// not exist yet; an empty path or an invalid option is an error.
func New(path string, opts ...Option) (*Provider, error) {
	if strings.TrimSpace(path) == "" {
		return nil, errors.New("flagdfile: New needs the path of a flag file")
	}
	cfg := config{debounce: defaultDebounce, logger: slog.New(slog.DiscardHandler), now: time.Now}
	for i, o := range opts {
		if o == nil {
			cfg.errs = append(cfg.errs, fmt.Errorf("flagdfile: New: option %d is nil", i))
			continue
		}
		o(&cfg)
	}
	if err := errors.Join(cfg.errs...); err != nil {
		return nil, err
	}
	return &Provider{
		path:     filepath.Clean(path),
		debounce: cfg.debounce,
		logger:   cfg.logger,
		now:      cfg.now,
		events:   make(chan openfeature.Event, 16),
	}, nil
}

// MustNew is New for tests and examples; it panics on a configuration
// error.
func MustNew(path string, opts ...Option) *Provider {
	p, err := New(path, opts...)
	if err != nil {
		panic(err)
	}
	return p
}

// Metadata names the provider.
func (p *Provider) Metadata() openfeature.Metadata {
	return openfeature.Metadata{Name: ProviderName}
}

// Hooks returns no hooks.
func (p *Provider) Hooks() []openfeature.Hook { return nil }

// EventChannel is where the provider reports reloads and rejected files.
func (p *Provider) EventChannel() <-chan openfeature.Event { return p.events }

// Init loads the file and starts watching it.
func (p *Provider) Init(evalCtx openfeature.EvaluationContext) error {
	return p.InitWithContext(context.Background(), evalCtx)
}

// InitWithContext loads the file and starts watching it. The watch starts
// even when the first load fails, so that a corrected file is picked up.
func (p *Provider) InitWithContext(ctx context.Context, _ openfeature.EvaluationContext) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.started {
		return nil
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("flagdfile: watch %s: %w", p.path, err)
	}
	// The directory, not the file: editors and config management replace
	// the file by renaming a new one over it, which a file watch loses.
	if err := w.Add(filepath.Dir(p.path)); err != nil {
		_ = w.Close()
		return fmt.Errorf("flagdfile: watch directory of %s: %w", p.path, err)
	}
	p.started = true
	p.stop = make(chan struct{})
	p.done = make(chan struct{})
	p.reloads.Lock()
	defer p.reloads.Unlock()
	go p.watch(w, p.stop, p.done)
	cfg, err := p.load()
	if err != nil {
		p.lastErr = err.Error()
		p.logger.Error("flag file rejected; every gated tool is refused until it is fixed", "path", p.path, "error", err)
		return err
	}
	p.cfg.Store(cfg)
	p.logger.Info("flag file loaded", "path", p.path, "flags", len(cfg.flags))
	return nil
}

// Shutdown stops watching the file.
func (p *Provider) Shutdown() { _ = p.ShutdownWithContext(context.Background()) }

// ShutdownWithContext stops watching the file and waits for the watcher to
// exit.
func (p *Provider) ShutdownWithContext(ctx context.Context) error {
	p.mu.Lock()
	if !p.started {
		p.mu.Unlock()
		return nil
	}
	p.started = false
	close(p.stop)
	done := p.done
	p.mu.Unlock()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// load reads and validates the whole file.
func (p *Provider) load() (*flagFile, error) {
	data, err := os.ReadFile(p.path)
	if err != nil {
		return nil, fmt.Errorf("flagdfile: read %s: %w", p.path, err)
	}
	cfg, err := parseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("flagdfile: %s: %w", p.path, err)
	}
	return cfg, nil
}

// reload applies the file if it changed and is valid, and reports the
// result as an event.
func (p *Provider) reload(stop <-chan struct{}) {
	p.reloads.Lock()
	defer p.reloads.Unlock()
	old := p.cfg.Load()
	cfg, err := p.load()
	if err != nil {
		if err.Error() == p.lastErr {
			return // the same problem, already reported
		}
		p.lastErr = err.Error()
		msg := err.Error()
		if old != nil {
			msg += "; still serving the last good configuration"
		}
		p.logger.Error("flag file rejected", "path", p.path, "error", err, "serving_last_good", old != nil)
		p.emit(stop, openfeature.Event{
			ProviderName:         ProviderName,
			EventType:            openfeature.ProviderError,
			ProviderEventDetails: openfeature.ProviderEventDetails{Message: msg, ErrorCode: openfeature.ParseErrorCode},
		})
		return
	}
	// A configuration change leaves the provider's state as it was, so
	// after an error (a bad start or a rejected edit) only PROVIDER_READY
	// brings the clients back to READY.
	recovered := p.lastErr != ""
	p.lastErr = ""
	if old != nil && old.digest == cfg.digest {
		if recovered {
			p.logger.Info("flag file valid again, unchanged", "path", p.path)
			p.emit(stop, openfeature.Event{
				ProviderName:         ProviderName,
				EventType:            openfeature.ProviderReady,
				ProviderEventDetails: openfeature.ProviderEventDetails{Message: "flag file valid again; configuration unchanged"},
			})
		}
		return
	}
	p.cfg.Store(cfg)
	changed := changedFlags(old, cfg)
	p.logger.Info("flag file reloaded", "path", p.path, "flags", len(cfg.flags), "changed", changed)
	ev := openfeature.Event{
		ProviderName: ProviderName,
		EventType:    openfeature.ProviderConfigChange,
		ProviderEventDetails: openfeature.ProviderEventDetails{
			Message:     "flag file reloaded",
			FlagChanges: changed,
		},
	}
	if old == nil || recovered {
		ev.EventType = openfeature.ProviderReady
	}
	p.emit(stop, ev)
}

func (p *Provider) emit(stop <-chan struct{}, ev openfeature.Event) {
	select {
	case p.events <- ev:
	case <-stop:
	}
}

// changedFlags lists the keys added, removed or redefined.
func changedFlags(old, cfg *flagFile) []string {
	var out []string
	if old == nil {
		return sortedKeys(cfg.flags)
	}
	for k, f := range cfg.flags {
		if o, ok := old.flags[k]; !ok || !sameFlag(o, f) {
			out = append(out, k)
		}
	}
	for k := range old.flags {
		if _, ok := cfg.flags[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func sameFlag(a, b *flagDef) bool {
	// encoding/json sorts map keys, so equal definitions encode equally.
	enc := func(f *flagDef) string {
		b, _ := json.Marshal([]any{f.enabled, f.variants, f.defaultVariant, f.targeting})
		return string(b)
	}
	return enc(a) == enc(b)
}

// evaluate resolves flag for the context with the current configuration.
func (p *Provider) evaluate(flag string, evalCtx openfeature.FlattenedContext) resolution {
	cfg := p.cfg.Load()
	if cfg == nil {
		msg := "flag file not loaded"
		if e := p.currentErr(); e != "" {
			msg = e
		}
		return resolutionError(openfeature.NewProviderNotReadyResolutionError(msg))
	}
	f, ok := cfg.flags[flag]
	if !ok {
		return resolutionError(openfeature.NewFlagNotFoundResolutionError(fmt.Sprintf("flag %s is not defined in %s", flag, filepath.Base(p.path))))
	}
	return f.resolve(evalCtx, p.now())
}

func (p *Provider) currentErr() string {
	p.reloads.Lock()
	defer p.reloads.Unlock()
	return p.lastErr
}

func typeMismatch(flag string, want valueKind, got any) resolution {
	return resolutionError(openfeature.NewTypeMismatchResolutionError(fmt.Sprintf("flag %s: asked for a %s, its variant is %s", flag, want, short(got))))
}

func detail(r resolution) openfeature.ProviderResolutionDetail {
	d := openfeature.ProviderResolutionDetail{Reason: r.reason, Variant: r.variant}
	if r.err != nil {
		d.ResolutionError = *r.err
	}
	return d
}

// BooleanEvaluation resolves a boolean flag.
func (p *Provider) BooleanEvaluation(_ context.Context, flag string, def bool, evalCtx openfeature.FlattenedContext) openfeature.BoolResolutionDetail {
	r := p.evaluate(flag, evalCtx)
	if r.err == nil && !r.useDefault {
		v, ok := r.value.(bool)
		if !ok {
			r = typeMismatch(flag, kindBool, r.value)
		} else {
			return openfeature.BoolResolutionDetail{Value: v, ProviderResolutionDetail: detail(r)}
		}
	}
	return openfeature.BoolResolutionDetail{Value: def, ProviderResolutionDetail: detail(r)}
}

// StringEvaluation resolves a string flag.
func (p *Provider) StringEvaluation(_ context.Context, flag string, def string, evalCtx openfeature.FlattenedContext) openfeature.StringResolutionDetail {
	r := p.evaluate(flag, evalCtx)
	if r.err == nil && !r.useDefault {
		v, ok := r.value.(string)
		if !ok {
			r = typeMismatch(flag, kindString, r.value)
		} else {
			return openfeature.StringResolutionDetail{Value: v, ProviderResolutionDetail: detail(r)}
		}
	}
	return openfeature.StringResolutionDetail{Value: def, ProviderResolutionDetail: detail(r)}
}

// FloatEvaluation resolves a number flag.
func (p *Provider) FloatEvaluation(_ context.Context, flag string, def float64, evalCtx openfeature.FlattenedContext) openfeature.FloatResolutionDetail {
	r := p.evaluate(flag, evalCtx)
	if r.err == nil && !r.useDefault {
		v, ok := r.value.(float64)
		if !ok {
			r = typeMismatch(flag, kindNumber, r.value)
		} else {
			return openfeature.FloatResolutionDetail{Value: v, ProviderResolutionDetail: detail(r)}
		}
	}
	return openfeature.FloatResolutionDetail{Value: def, ProviderResolutionDetail: detail(r)}
}

// IntEvaluation resolves a number flag whose value is a whole number.
func (p *Provider) IntEvaluation(_ context.Context, flag string, def int64, evalCtx openfeature.FlattenedContext) openfeature.IntResolutionDetail {
	r := p.evaluate(flag, evalCtx)
	if r.err == nil && !r.useDefault {
		v, ok := r.value.(float64)
		if !ok || v != math.Trunc(v) || math.Abs(v) > 1<<53 {
			r = typeMismatch(flag, "whole number", r.value)
		} else {
			return openfeature.IntResolutionDetail{Value: int64(v), ProviderResolutionDetail: detail(r)}
		}
	}
	return openfeature.IntResolutionDetail{Value: def, ProviderResolutionDetail: detail(r)}
}

// ObjectEvaluation resolves a flag of any type.
func (p *Provider) ObjectEvaluation(_ context.Context, flag string, def any, evalCtx openfeature.FlattenedContext) openfeature.InterfaceResolutionDetail {
	r := p.evaluate(flag, evalCtx)
	if r.err == nil && !r.useDefault {
		return openfeature.InterfaceResolutionDetail{Value: r.value, ProviderResolutionDetail: detail(r)}
	}
	return openfeature.InterfaceResolutionDetail{Value: def, ProviderResolutionDetail: detail(r)}
}
