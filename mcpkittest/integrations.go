package mcpkittest

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/open-feature/go-sdk/openfeature/isolated"
	"github.com/open-feature/go-sdk/openfeature/memprovider"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/flags"
	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// auditOption installs the server's audit pipeline on sink.
func (e *env) auditOption(t testing.TB, sink audit.Sink) mcpkit.Option {
	if e.opts.Audit != nil {
		return e.opts.Audit(sink)
	}
	mw, err := audit.Middleware(sink)
	if err != nil {
		t.Fatalf("mcpkittest: audit middleware: %v", err)
	}
	return mcpkit.WithMiddleware(mw)
}

// flagsOption installs the server's flag gate on client.
func (e *env) flagsOption(t testing.TB, client flags.Client) mcpkit.Option {
	if e.opts.Flags != nil {
		return e.opts.Flags(client)
	}
	g, err := flags.NewGate(client)
	if err != nil {
		t.Fatalf("mcpkittest: flag gate: %v", err)
	}
	return mcpkit.WithGates(g)
}

// approvalOption installs the server's approval gate around a.
func (e *env) approvalOption(t testing.TB, a approval.Approver) mcpkit.Option {
	if e.opts.Approval != nil {
		return e.opts.Approval(a)
	}
	mw, err := approval.New(a)
	if err != nil {
		t.Fatalf("mcpkittest: approval gate: %v", err)
	}
	return mcpkit.WithInnerMiddleware(mw)
}

// capture is an audit sink that keeps every record, in order, as the JSON
// bytes a real sink would write.
type capture struct {
	mu      sync.Mutex
	records []audit.Record
	raw     [][]byte
}

func (c *capture) Write(_ context.Context, r *audit.Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.records = append(c.records, *r)
	c.raw = append(c.raw, b)
	return nil
}

// final returns the final (not write-ahead) records.
func (c *capture) final() []audit.Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []audit.Record
	for _, r := range c.records {
		if r.Phase != audit.PhaseStart {
			out = append(out, r)
		}
	}
	return out
}

// flagClient returns an OpenFeature client on an isolated API whose flags
// are all on except the ones named off.
func flagClient(ctx context.Context, tools []*mcpkit.ToolInfo, off string) (flags.Client, func(), error) {
	defs := map[string]memprovider.InMemoryFlag{}
	for _, t := range tools {
		key := flags.FlagKey(t)
		variant := "on"
		if key == off {
			variant = "off"
		}
		defs[key] = memprovider.InMemoryFlag{Key: key, State: memprovider.Enabled, DefaultVariant: variant,
			Variants: map[string]any{"on": true, "off": false}}
	}
	api := isolated.NewAPI()
	if err := api.SetProviderAndWait(ctx, memprovider.NewInMemoryProvider(defs)); err != nil {
		return nil, nil, err
	}
	return api.NewClient(), func() { _ = api.Shutdown(ctx) }, nil
}
