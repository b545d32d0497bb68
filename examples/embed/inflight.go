package main

import (
	"context"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// inflight counts tool calls still running and can cancel them all, so
// that shutdown can end calls that outlive its bound and close the audit
// file only after their final records are written. (go-sdk v1.8.0 does
// not cancel a tool's context when its HTTP request goes away.)
type inflight struct {
	mu    sync.Mutex
	n     int
	idle  chan struct{} // closed while n == 0
	abort context.Context
	stop  context.CancelFunc
}

func newInflight() *inflight {
	idle := make(chan struct{})
	close(idle)
	abort, stop := context.WithCancel(context.Background())
	return &inflight{idle: idle, abort: abort, stop: stop}
}

// Middleware counts each call from entry to return and cancels its context
// on Abort.
func (f *inflight) Middleware() mcpkit.Middleware {
	return func(next mcpkit.Handler) mcpkit.Handler {
		return func(ctx context.Context, c *mcpkit.Call) (*mcp.CallToolResult, error) {
			f.add(1)
			defer f.add(-1)
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			defer context.AfterFunc(f.abort, cancel)()
			return next(ctx, c)
		}
	}
}

// Abort cancels the context of every call running now or later.
func (f *inflight) Abort() { f.stop() }

func (f *inflight) add(d int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == 0 && d > 0 {
		f.idle = make(chan struct{})
	}
	f.n += d
	if f.n == 0 {
		close(f.idle)
	}
}

// Wait returns when no call is running, or with ctx's error and the
// number still running.
func (f *inflight) Wait(ctx context.Context) (int, error) {
	f.mu.Lock()
	idle := f.idle
	f.mu.Unlock()
	select {
	case <-idle:
		return 0, nil
	case <-ctx.Done():
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.n, ctx.Err()
	}
}
