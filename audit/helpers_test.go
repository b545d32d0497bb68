package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// memSink keeps copies of the records it takes; fail makes it refuse them.
type memSink struct {
	mu      sync.Mutex
	records []audit.Record
	fail    error
}

func (m *memSink) Write(_ context.Context, r *audit.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.records = append(m.records, *r)
	return nil
}

func (m *memSink) setFail(err error) {
	m.mu.Lock()
	m.fail = err
	m.mu.Unlock()
}

func (m *memSink) all() []audit.Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]audit.Record(nil), m.records...)
}

// finals returns the final records (not the write-ahead ones).
func (m *memSink) finals() []audit.Record {
	var out []audit.Record
	for _, r := range m.all() {
		if r.Phase == "" {
			out = append(out, r)
		}
	}
	return out
}

type thingIn struct {
	Name     string `json:"name" jsonschema:"description=Thing name,maxLength=64"`
	Text     string `json:"text,omitempty" jsonschema:"description=Free text"`
	Note     string `json:"note,omitempty" jsonschema:"description=A note the policy redacts"`
	Tagged   string `json:"tagged,omitempty" jsonschema:"description=A field tagged for redaction" mcpkit:"redact"`
	Password string `json:"password,omitempty" jsonschema:"description=A secret-named field"`
	Fail     string `json:"fail,omitempty" jsonschema:"description=Return this as an internal error"`
	Public   string `json:"public,omitempty" jsonschema:"description=Return this as a public error"`
	Panic    bool   `json:"panic,omitempty" jsonschema:"description=Panic if true"`
	Deny     bool   `json:"deny,omitempty" jsonschema:"description=Approval stand-in denies if true"`
}

type thingOut struct {
	Name   string `json:"name" jsonschema:"description=Thing name"`
	Echo   string `json:"echo,omitempty" jsonschema:"description=Echoed text"`
	Token  string `json:"token,omitempty" jsonschema:"description=A secret-named output"`
	Hidden string `json:"hidden,omitempty" jsonschema:"description=Tagged output" mcpkit:"redact"`
}

// handlerRan records, per call, whether a start record existed when the
// handler ran.
type fixture struct {
	sink    *memSink
	auditor *audit.Auditor
	srv     *mcpkit.Server
	mu      sync.Mutex
	sawWAL  map[string]bool // tool -> a start record was in the sink when the handler ran
}

func newFixture(t *testing.T, sink audit.Sink, opts ...audit.Option) *fixture {
	t.Helper()
	f := &fixture{sawWAL: map[string]bool{}}
	if ms, ok := sink.(*memSink); ok {
		f.sink = ms
	}
	f.auditor = must(audit.New(sink, opts...))
	flagGate := mcpkit.GateFunc(func(_ context.Context, c *mcpkit.Call) error {
		if c.Tool.Name == "get_flagged" {
			return mcpkit.NewError(mcpkit.CodeDeniedFlag, "tool get_flagged is turned off", nil)
		}
		return nil
	})
	approval := func(next mcpkit.Handler) mcpkit.Handler {
		return func(ctx context.Context, c *mcpkit.Call) (*mcp.CallToolResult, error) {
			if in, ok := c.Input.(thingIn); ok && in.Deny {
				c.Approval = &mcpkit.ApprovalDecision{Approver: "bob", Decision: "denied", Reason: "not now"}
				return c.Fail(mcpkit.NewError(mcpkit.CodeDeniedApproval, "a human declined the call", nil)), nil
			}
			if c.NeedsApproval() {
				c.Approval = &mcpkit.ApprovalDecision{Approver: "bob", Decision: "approved"}
			}
			return next(ctx, c)
		}
	}
	srv, err := mcpkit.NewServer(&mcp.Implementation{Name: "things", Version: "1.0.0"},
		mcpkit.WithMiddleware(f.auditor.Middleware()),
		mcpkit.WithGates(flagGate, mcpkit.ScopeGate()),
		mcpkit.WithInnerMiddleware(approval),
		mcpkit.WithDefaultIdentity(mcpkit.Identity{Subject: "alice", Email: "alice@example.com", Groups: []string{"sre"}, Scopes: []string{"things:read"}, AuthMethod: "local", Transport: "memory"}),
	)
	require.NoError(t, err)
	handler := func(ctx context.Context, in thingIn) (thingOut, error) {
		c, _ := mcpkit.CallFromContext(ctx)
		if f.sink != nil {
			for _, r := range f.sink.all() {
				if r.Phase == audit.PhaseStart && r.Tool == c.Tool.Name {
					f.mu.Lock()
					f.sawWAL[c.Tool.Name] = true
					f.mu.Unlock()
				}
			}
		}
		switch {
		case in.Panic:
			panic("boom " + in.Text)
		case in.Fail != "":
			return thingOut{}, errors.New(in.Fail)
		case in.Public != "":
			return thingOut{}, mcpkit.PublicError("%s", in.Public)
		}
		return thingOut{Name: in.Name, Echo: in.Text, Token: in.Password, Hidden: in.Tagged}, nil
	}
	add := func(name string, p mcpkit.Policy) {
		p.Redact = append(p.Redact, "note")
		require.NoError(t, mcpkit.AddTool(srv, mcpkit.Tool{Name: name, Description: "Do " + strings.ReplaceAll(name, "_", " ") + ".", Policy: p}, handler))
	}
	add("get_thing", mcpkit.Policy{Risk: mcpkit.ReadOnly, Public: true})
	add("get_flagged", mcpkit.Policy{Risk: mcpkit.ReadOnly, Public: true})
	add("get_admin", mcpkit.Policy{Risk: mcpkit.ReadOnly, Scopes: []string{"things:admin"}})
	add("update_thing", mcpkit.Policy{Risk: mcpkit.Write, Public: true})
	add("delete_thing", mcpkit.Policy{Risk: mcpkit.Destructive, Public: true})
	f.srv = srv
	return f
}

func callTool(t testing.TB, cs *mcp.ClientSession, name string, args any) (*mcp.CallToolResult, error) {
	t.Helper()
	return cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
}

func asJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

type sessionT = *mcp.ClientSession

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// bearer adds a token to every request of a go-sdk client.
type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

// must returns v, panicking on err: for building values from options a
// test knows to be valid (constructors return their errors).
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
