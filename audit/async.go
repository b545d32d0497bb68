package audit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// ErrClosed is returned by a sink written to after Close.
var ErrClosed = errors.New("audit: sink is closed")

// ErrQueueFull is returned by an Async sink in drop mode when its queue is
// full; the record is dropped and counted.
var ErrQueueFull = errors.New("audit: async queue is full; record dropped")

// AsyncOption configures an Async sink.
type AsyncOption func(*asyncConfig)

type asyncConfig struct {
	size    int
	drop    bool
	onError func(*Record, error)
	errs    []error
}

// WithQueueSize sets the queue's capacity in records (default 4096); less
// than one is an error.
func WithQueueSize(n int) AsyncOption {
	return func(c *asyncConfig) {
		if n < 1 {
			c.errs = append(c.errs, fmt.Errorf("audit: WithQueueSize needs at least 1, got %d", n))
			return
		}
		c.size = n
	}
}

// WithDropWhenFull makes Write drop and count a record when the queue is
// full instead of waiting for room (the default is to wait).
func WithDropWhenFull() AsyncOption { return func(c *asyncConfig) { c.drop = true } }

// WithAsyncErrorHandler is called, from the queue's goroutine, for each
// record the wrapped sink refused.
func WithAsyncErrorHandler(f func(*Record, error)) AsyncOption {
	return func(c *asyncConfig) { c.onError = f }
}

// Async writes to a sink from a goroutine behind a bounded queue, so that a
// slow sink does not slow calls. Write returns once the record is queued:
// use Async for secondary sinks (logs, OpenTelemetry), not for the
// write-ahead file. Flush and Close wait until the queue is drained.
type Async struct {
	next    Sink
	cfg     asyncConfig
	queue   chan asyncItem
	mu      sync.RWMutex // guards closed against sends
	closed  bool
	done    chan struct{}
	dropped atomic.Uint64
	failed  atomic.Uint64
}

type asyncItem struct {
	ctx context.Context
	r   *Record
	// flushed, on a marker item, is closed when the goroutine reaches it.
	flushed chan struct{}
}

// NewAsync starts the queue's goroutine in front of next. Close stops it.
func NewAsync(next Sink, opts ...AsyncOption) (*Async, error) {
	cfg := asyncConfig{size: 4096}
	if next == nil {
		cfg.errs = append(cfg.errs, errors.New("audit: NewAsync needs a sink, got nil"))
	}
	for _, o := range opts {
		o(&cfg)
	}
	if err := errors.Join(cfg.errs...); err != nil {
		return nil, err
	}
	cfg.errs = nil
	a := &Async{next: next, cfg: cfg, queue: make(chan asyncItem, cfg.size), done: make(chan struct{})}
	go a.run()
	return a, nil
}

func (a *Async) run() {
	defer close(a.done)
	for it := range a.queue {
		if it.flushed != nil {
			close(it.flushed)
			continue
		}
		if err := a.next.Write(it.ctx, it.r); err != nil {
			a.failed.Add(1)
			if a.cfg.onError != nil {
				a.cfg.onError(it.r, err)
			}
		}
	}
}

// Write queues r. With the default policy it waits for room (or for ctx);
// in drop mode a full queue drops r, counts it and returns ErrQueueFull.
func (a *Async) Write(ctx context.Context, r *Record) error {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.closed {
		return ErrClosed
	}
	// The record outlives the call; keep its values (trace context), not
	// its cancellation.
	it := asyncItem{ctx: context.WithoutCancel(ctx), r: r}
	if a.cfg.drop {
		select {
		case a.queue <- it:
			return nil
		default:
			a.dropped.Add(1)
			return ErrQueueFull
		}
	}
	select {
	case a.queue <- it:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Dropped returns how many records were dropped because the queue was full.
func (a *Async) Dropped() uint64 { return a.dropped.Load() }

// Failed returns how many queued records the wrapped sink refused.
func (a *Async) Failed() uint64 { return a.failed.Load() }

// Flush waits until every record queued before it has been written, then
// flushes the wrapped sink.
func (a *Async) Flush(ctx context.Context) error {
	marker := asyncItem{flushed: make(chan struct{})}
	a.mu.RLock()
	if a.closed {
		a.mu.RUnlock()
		return nil // Close drained everything.
	}
	select {
	case a.queue <- marker:
		a.mu.RUnlock()
	case <-ctx.Done():
		a.mu.RUnlock()
		return ctx.Err()
	}
	select {
	case <-marker.flushed:
	case <-ctx.Done():
		return ctx.Err()
	}
	return Flush(ctx, a.next)
}

// Close stops accepting records, drains the queue and closes the wrapped
// sink.
func (a *Async) Close(ctx context.Context) error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	close(a.queue)
	a.mu.Unlock()
	select {
	case <-a.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	return Close(ctx, a.next)
}
