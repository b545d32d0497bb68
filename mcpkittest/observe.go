package mcpkittest

import (
	"context"
	"errors"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// observer watches calls from inside the chain: the outcome each call ended
// with (as the audit record would see it), whether it got past every gate,
// and whether it reached the handler stage. It never lets a call run a real
// handler, so the suite has no side effects on the system behind the tools.
type observer struct {
	mu       sync.Mutex
	outcomes []observed
	passed   map[string]int
	reached  map[string]int
}

type observed struct {
	tool    string
	outcome mcpkit.Outcome
	err     error
}

func newObserver() *observer {
	return &observer{passed: map[string]int{}, reached: map[string]int{}}
}

var errStopped = &mcpkit.Error{Code: mcpkit.CodeUnavailable, Message: "mcpkittest: stopped after the gates"}

// options installs the observer. With stopAtGates, a call that every gate
// allowed is stopped right there, before validation.
func (o *observer) options(stopAtGates bool) []mcpkit.Option {
	record := func(next mcpkit.Handler) mcpkit.Handler {
		return func(ctx context.Context, c *mcpkit.Call) (*mcp.CallToolResult, error) {
			res, err := next(ctx, c)
			o.mu.Lock()
			o.outcomes = append(o.outcomes, observed{tool: observedKey(c.Tool), outcome: c.Outcome(), err: c.Err()})
			o.mu.Unlock()
			return res, err
		}
	}
	gate := mcpkit.GateFunc(func(ctx context.Context, c *mcpkit.Call) error {
		if c.Listing() { // a list request: never hide anything
			return nil
		}
		o.mu.Lock()
		o.passed[observedKey(c.Tool)]++
		o.mu.Unlock()
		if stopAtGates {
			return errStopped
		}
		return nil
	})
	stop := func(next mcpkit.Handler) mcpkit.Handler {
		return func(ctx context.Context, c *mcpkit.Call) (*mcp.CallToolResult, error) {
			o.mu.Lock()
			o.reached[observedKey(c.Tool)]++
			o.mu.Unlock()
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "mcpkittest: handler not run"}}}, nil
		}
	}
	return []mcpkit.Option{mcpkit.WithMiddleware(record), mcpkit.WithGates(gate), mcpkit.WithInnerMiddleware(stop)}
}

// observedKey is what the observer counts an entry under: a tool's name,
// or the label of a resource, template or prompt ("resource status",
// "prompt summarize_thing"), whose names may repeat a tool's.
func observedKey(info *mcpkit.ToolInfo) string {
	if info.Kind == "" || info.Kind == mcpkit.KindTool {
		return info.Name
	}
	return info.Label()
}

func (o *observer) last() (observed, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.outcomes) == 0 {
		return observed{}, false
	}
	return o.outcomes[len(o.outcomes)-1], true
}

func (o *observer) reachedCount(tool string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.reached[tool]
}

func (o *observer) passedCount(tool string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.passed[tool]
}

func isStopped(err error) bool { return errors.Is(err, errStopped) }
