package otlp_test

import (
	"context"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// memSink keeps every record in memory.
type memSink struct {
	mu      sync.Mutex
	records []audit.Record
}

func (m *memSink) Write(_ context.Context, r *audit.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.records = append(m.records, *r)
	return nil
}

func (m *memSink) all() []audit.Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]audit.Record(nil), m.records...)
}

type thingIn struct {
	Name   string `json:"name" jsonschema:"description=Thing name,maxLength=64"`
	Public string `json:"public,omitempty" jsonschema:"description=Return this as a public error"`
}

type thingOut struct {
	Name string `json:"name" jsonschema:"description=Thing name"`
}

// fixture is an audited server with a public read-only tool and one that
// needs a scope the test's caller lacks.
type fixture struct {
	sink    *memSink
	auditor *audit.Auditor
	srv     *mcpkit.Server
}

func newFixture(t *testing.T, sink audit.Sink, opts ...audit.Option) *fixture {
	t.Helper()
	f := &fixture{auditor: must(audit.New(sink, opts...))}
	srv, err := mcpkit.NewServer(&mcp.Implementation{Name: "things", Version: "1.0.0"},
		mcpkit.WithMiddleware(f.auditor.Middleware()),
		mcpkit.WithGates(mcpkit.ScopeGate()),
	)
	require.NoError(t, err)
	handler := func(_ context.Context, in thingIn) (thingOut, error) {
		if in.Public != "" {
			return thingOut{}, mcpkit.PublicError("%s", in.Public)
		}
		return thingOut{Name: in.Name}, nil
	}
	require.NoError(t, mcpkit.AddTool(srv, mcpkit.Tool{Name: "get_thing", Description: "Get a thing.",
		Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Public: true}}, handler))
	require.NoError(t, mcpkit.AddTool(srv, mcpkit.Tool{Name: "get_admin", Description: "Get an admin thing.",
		Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Scopes: []string{"things:admin"}}}, handler))
	f.srv = srv
	return f
}

// must returns v, panicking on err: for building values from options a
// test knows to be valid (constructors return their errors).
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
