package mcpkittest

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/flags"
	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// fakeTB records what a check reports instead of failing the real test, so
// that the suite's own tests can assert which check fails.
type fakeTB struct {
	testing.TB // nil: calling anything not overridden panics, on purpose
	name       string

	mu       sync.Mutex
	failed   bool
	skipped  bool
	messages []string
	cleanups []func()
}

func (f *fakeTB) Helper()      {}
func (f *fakeTB) Name() string { return f.name }
func (f *fakeTB) log(s string) {
	f.mu.Lock()
	f.messages = append(f.messages, s)
	f.mu.Unlock()
}
func (f *fakeTB) Logf(format string, args ...any) { f.log(fmt.Sprintf(format, args...)) }
func (f *fakeTB) Log(args ...any)                 { f.log(fmt.Sprint(args...)) }
func (f *fakeTB) Errorf(format string, args ...any) {
	f.log(fmt.Sprintf(format, args...))
	f.Fail()
}
func (f *fakeTB) Error(args ...any) { f.log(fmt.Sprint(args...)); f.Fail() }
func (f *fakeTB) Fail() {
	f.mu.Lock()
	f.failed = true
	f.mu.Unlock()
}
func (f *fakeTB) Failed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failed
}
func (f *fakeTB) FailNow()                          { f.Fail(); runtime.Goexit() }
func (f *fakeTB) Fatalf(format string, args ...any) { f.log(fmt.Sprintf(format, args...)); f.FailNow() }
func (f *fakeTB) Fatal(args ...any)                 { f.log(fmt.Sprint(args...)); f.FailNow() }
func (f *fakeTB) SkipNow() {
	f.mu.Lock()
	f.skipped = true
	f.mu.Unlock()
	runtime.Goexit()
}
func (f *fakeTB) Skip(args ...any)                 { f.log(fmt.Sprint(args...)); f.SkipNow() }
func (f *fakeTB) Skipf(format string, args ...any) { f.log(fmt.Sprintf(format, args...)); f.SkipNow() }
func (f *fakeTB) Skipped() bool                    { return f.skipped }
func (f *fakeTB) Cleanup(fn func())                { f.cleanups = append(f.cleanups, fn) }

// fakeRunner runs each check on a fakeTB and keeps the results by name.
type fakeRunner struct {
	results map[string]*fakeTB
}

func (r *fakeRunner) Run(name string, fn func(testing.TB)) bool {
	tb := &fakeTB{name: name}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(tb)
	}()
	<-done
	for i := len(tb.cleanups) - 1; i >= 0; i-- {
		tb.cleanups[i]()
	}
	r.results[name] = tb
	return !tb.failed
}

func runFake(t *testing.T, f Factory, opts Config) *fakeRunner {
	t.Helper()
	r := &fakeRunner{results: map[string]*fakeTB{}}
	outer := &fakeTB{name: "outer"}
	run(r, outer, f, opts)
	require.False(t, outer.failed, "outer: %v", outer.messages)
	return r
}

type idIn struct {
	ID string `json:"id" jsonschema:"description=Thing id,pattern=^T-[0-9]+$,example=T-1"`
}

type countIn struct {
	ID    string `json:"id" jsonschema:"description=Thing id"`
	Count int    `json:"count" jsonschema:"description=How many,minimum=1,maximum=10"`
	Force bool   `json:"force,omitempty" jsonschema:"description=Skip safety checks"`
}

type summaryIn struct {
	ID   string `json:"id" jsonschema:"description=Thing id"`
	Tone string `json:"tone,omitempty" jsonschema:"description=Tone of the summary"`
}

type thing struct {
	ID string `json:"id" jsonschema:"description=Thing id"`
}

// variant breaks goodServer in one way.
type variant struct {
	opts     []mcpkit.Option
	approval mcpkit.ApprovalRule // of delete_thing
	after    func(*mcpkit.Server)
}

// goodServer is a small, correct server; a variant changes one thing.
func goodServer(ran *int, v variant) Factory {
	return func(opts ...mcpkit.Option) (*mcpkit.Server, error) {
		base := v.opts // the scope gate is built in
		srv, err := mcpkit.NewServer(&mcp.Implementation{Name: "things", Version: "1.0.0"}, append(base, opts...)...)
		if err != nil {
			return nil, err
		}
		h := func(ctx context.Context, in idIn) (thing, error) { *ran++; return thing(in), nil }
		hc := func(ctx context.Context, in countIn) (thing, error) { *ran++; return thing{ID: in.ID}, nil }
		mcpkit.MustAddTool(srv, mcpkit.Tool{Name: "get_thing", Title: "Get a thing", Description: "Get one thing by id.",
			Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Scopes: []string{"things:read"}}}, h)
		mcpkit.MustAddTool(srv, mcpkit.Tool{Name: "update_thing", Description: "Update a thing's count.",
			Policy: mcpkit.Policy{Risk: mcpkit.Write, Scopes: []string{"things:write"}, Idempotent: true}}, hc)
		mcpkit.MustAddTool(srv, mcpkit.Tool{Name: "delete_thing", Description: "Delete a thing for good.",
			Policy: mcpkit.Policy{Risk: mcpkit.Destructive, Scopes: []string{"things:admin"}, Approval: v.approval}}, h)
		mcpkit.MustAddTool(srv, mcpkit.Tool{Name: "ping", Description: "Check the server answers.",
			Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Public: true}}, func(context.Context, struct{}) (thing, error) { return thing{ID: "pong"}, nil })
		mcpkit.MustAddResource(srv, mcpkit.Resource{URI: "things://status", Name: "status", Description: "The service's status.",
			MIMEType: "application/json", Policy: mcpkit.Policy{Scopes: []string{"things:read"}}},
			func(context.Context) ([]*mcp.ResourceContents, error) {
				*ran++
				return []*mcp.ResourceContents{{Text: "{}"}}, nil
			})
		mcpkit.MustAddResourceTemplate(srv, mcpkit.ResourceTemplate{URITemplate: "things://thing/{id}", Name: "thing", Description: "One thing as JSON.",
			MIMEType: "application/json", Policy: mcpkit.Policy{Scopes: []string{"things:read"}}},
			func(context.Context, idIn) ([]*mcp.ResourceContents, error) {
				*ran++
				return []*mcp.ResourceContents{{Text: "{}"}}, nil
			})
		mcpkit.MustAddPrompt(srv, mcpkit.Prompt{Name: "summarize_thing", Description: "Summarize a thing for a reader.",
			Policy: mcpkit.Policy{Scopes: []string{"things:admin"}}},
			func(context.Context, summaryIn) ([]*mcp.PromptMessage, error) {
				*ran++
				return []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: "summarize"}}}, nil
			})
		if v.after != nil {
			v.after(srv)
		}
		return srv, nil
	}
}

// rawTool adds a tool to the SDK server directly, bypassing mcpkit.
func rawTool(schema string, description string) variant {
	return variant{after: func(s *mcpkit.Server) {
		s.MCPServer().AddTool(&mcp.Tool{Name: "get_raw", Description: description, InputSchema: json.RawMessage(schema)},
			func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				return &mcp.CallToolResult{}, nil
			})
	}}
}

func withOption(o mcpkit.Option) variant { return variant{opts: []mcpkit.Option{o}} }

// hidingScopeCheck turns the built-in scope check off for a hand-written
// one that only filters tools/list.
func hidingScopeCheck() variant {
	return variant{opts: []mcpkit.Option{mcpkit.WithoutScopeEnforcement(), mcpkit.WithGates(mcpkit.GateFunc(
		func(ctx context.Context, c *mcpkit.Call) error {
			if c.Request == nil && !c.Identity.HasScopes(c.Tool.Policy.Scopes...) {
				return fmt.Errorf("hidden")
			}
			return nil
		}))}}
}

func goldenOpts(t *testing.T) Config {
	dir := t.TempDir()
	return Config{SurfaceFile: filepath.Join(dir, "surface.json"), PolicyFile: filepath.Join(dir, "POLICY.md")}
}

func TestGoodServerPassesEveryCheck(t *testing.T) {
	var ran int
	opts := goldenOpts(t)
	opts.Update = true
	runFake(t, goodServer(&ran, variant{}), opts) // writes the golden files
	opts.Update = false
	r := runFake(t, goodServer(&ran, variant{}), opts)
	for _, name := range CheckNames() {
		res := r.results[name]
		require.NotNil(t, res, name)
		assert.False(t, res.failed, "%s failed: %s", name, strings.Join(res.messages, "\n"))
		assert.False(t, res.skipped, "%s skipped: %s", name, strings.Join(res.messages, "\n"))
	}
	assert.Zero(t, ran, "the suite never runs a handler")
}

// A good server that turns subscriptions and completions on passes the
// scope check, which then plays them too.
func TestGoodServerWithSubscriptionsAndCompletionsPassesTheScopeCheck(t *testing.T) {
	var ran int
	const check = "scopes/a caller without a resource's or prompt's scopes can neither list nor read or get it"
	r := runFake(t, goodServer(&ran, variant{opts: []mcpkit.Option{withSDKHandlers()}}), Config{})
	res := r.results[check]
	require.NotNil(t, res)
	assert.False(t, res.failed, strings.Join(res.messages, "\n"))
	assert.False(t, res.skipped)
	assert.Zero(t, ran)
}

const (
	entryConsistency = "consistency/resources and prompts listed are exactly what each identity may read or get"
	entryAudit       = "audit/exactly one record per resource read and prompt get, refusals and unknown targets too, and no planted secret"
)

func TestBrokenServersFailTheNamedCheck(t *testing.T) {
	cases := []struct {
		name   string
		mutate variant
		check  string
		says   string
		opts   *Config
	}{
		{"tool with no description", rawTool(`{"type":"object"}`, ""),
			"surface/descriptions are one bounded paragraph", "get_raw has no description", nil},
		{"destructive tool without approval", variant{approval: mcpkit.ApprovalNever()},
			"surface/destructive tools require approval", "delete_thing is destructive", nil},
		{"schema property without description", rawTool(`{"type":"object","properties":{"q":{"type":"string"}}}`, "Raw."),
			"surface/input schemas are objects with every property described", "arguments.q has no description", nil},
		{"tool without policy", rawTool(`{"type":"object"}`, "Raw."),
			"surface/every tool declares scopes or is public", "get_raw is not registered through mcpkit", nil},
		{"gate that hides but does not refuse", withOption(mcpkit.WithGates(mcpkit.GateFunc(
			func(ctx context.Context, c *mcpkit.Call) error {
				if c.Request == nil && c.Tool.Name == "update_thing" {
					return fmt.Errorf("hidden")
				}
				return nil
			}))),
			"consistency/tools/list shows exactly what each identity may call", "update_thing is hidden from tools/list but its calls are allowed", nil},
		{"gate that refuses but does not hide", withOption(mcpkit.WithGates(mcpkit.GateFunc(
			func(ctx context.Context, c *mcpkit.Call) error {
				if c.Request != nil && c.Tool.Name == "get_thing" {
					return fmt.Errorf("refused")
				}
				return nil
			}))),
			"consistency/tools/list shows exactly what each identity may call", "get_thing is listed but its calls are refused", nil},
		{"middleware that hides a panic from the client", withOption(mcpkit.WithMiddleware(
			func(next mcpkit.Handler) mcpkit.Handler {
				return func(ctx context.Context, c *mcpkit.Call) (*mcp.CallToolResult, error) {
					res, err := next(ctx, c)
					if c.Outcome() == mcpkit.OutcomePanic {
						return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "ok"}}}, nil
					}
					return res, err
				}
			})),
			"behaviour/a panic in the chain is contained", "want isError", nil},
		{"gate that refuses everything before validation", withOption(mcpkit.WithGates(mcpkit.GateFunc(
			func(ctx context.Context, c *mcpkit.Call) error {
				return &mcpkit.Error{Code: mcpkit.CodeDeniedFlag, Message: "off"}
			}))),
			"behaviour/wrong types are refused naming the field", "want invalid_input", nil},
		{"audit sink that drops a record", variant{}, "audit/exactly one record per call, with the principal, and no planted secret", "want exactly one per call",
			&Config{Audit: func(sink audit.Sink) mcpkit.Option {
				n := 0
				dropping := audit.SinkFunc(func(ctx context.Context, r *audit.Record) error {
					if n++; n == 5 {
						return nil // claims success, writes nothing
					}
					return sink.Write(ctx, r)
				})
				return mcpkit.WithMiddleware(must(audit.Middleware(dropping)))
			}}},
		{"redactor that misses a secret", variant{}, "audit/exactly one record per call, with the principal, and no planted secret", "contains the planted secret",
			&Config{Audit: func(sink audit.Sink) mcpkit.Option {
				// A hand-written audit middleware that logs raw arguments.
				return mcpkit.WithMiddleware(func(next mcpkit.Handler) mcpkit.Handler {
					return func(ctx context.Context, c *mcpkit.Call) (*mcp.CallToolResult, error) {
						res, err := next(ctx, c)
						_ = sink.Write(ctx, &audit.Record{ID: "x", Time: audit.Time{Time: c.Start}, Tool: c.Tool.Name,
							Principal: audit.Principal{Subject: c.Identity.Subject}, Outcome: string(c.Outcome()), Arguments: c.Arguments})
						return res, err
					}
				})
			}}},
		{"approval not wired", variant{}, "approval/with a denying approver, tools that need approval never reach the handler", "reached its handler",
			&Config{Approval: func(approval.Approver) mcpkit.Option {
				return mcpkit.WithInnerMiddleware(func(next mcpkit.Handler) mcpkit.Handler { return next })
			}}},
		{"gate that hides a resource but lets it be read", withOption(mcpkit.WithGates(mcpkit.GateFunc(
			func(ctx context.Context, c *mcpkit.Call) error {
				if c.Listing() && c.Tool.Kind == mcpkit.KindResource && c.Tool.Name == "status" {
					return fmt.Errorf("hidden")
				}
				return nil
			}))),
			entryConsistency, "resource status (things://status) is hidden from resources/list but resources/read lets it past every gate", nil},
		{"gate that lists a template but refuses its reads", withOption(mcpkit.WithGates(mcpkit.GateFunc(
			func(ctx context.Context, c *mcpkit.Call) error {
				if !c.Listing() && c.Tool.Kind == mcpkit.KindResourceTemplate {
					return &mcpkit.Error{Code: mcpkit.CodeDeniedFlag, Message: "off"}
				}
				return nil
			}))),
			entryConsistency, "resource template thing (things://thing/{id}, read as things://thing/T-1) is listed by resources/templates/list but resources/read refuses it (denied_flag)", nil},
		{"gate that lists a prompt but refuses its gets", withOption(mcpkit.WithGates(mcpkit.GateFunc(
			func(ctx context.Context, c *mcpkit.Call) error {
				if c.Operation == mcpkit.OpGetPrompt {
					return fmt.Errorf("refused")
				}
				return nil
			}))),
			entryConsistency, "prompt summarize_thing is listed by prompts/list but prompts/get refuses it", nil},
		{"list filter that shows a prompt to callers without its scope", withOption(mcpkit.WithGates(mcpkit.GateFunc(
			func(ctx context.Context, c *mcpkit.Call) error {
				if c.Operation == mcpkit.OpGetPrompt && !c.Identity.HasScopes("things:read") {
					return &mcpkit.Error{Code: mcpkit.CodeDeniedScope, Message: "no"}
				}
				return nil
			}))),
			entryConsistency, "prompt summarize_thing is listed by prompts/list but prompts/get refuses it (denied_scope)", nil},
		{"audit sink that drops a resource read's record", variant{}, entryAudit, "want exactly one each",
			&Config{Audit: func(sink audit.Sink) mcpkit.Option {
				dropping := audit.SinkFunc(func(ctx context.Context, r *audit.Record) error {
					if r.Operation == string(mcpkit.OpReadResource) && r.Outcome == string(mcpkit.OutcomeDeniedScope) {
						return nil // claims success, writes nothing
					}
					return sink.Write(ctx, r)
				})
				return mcpkit.WithMiddleware(must(audit.Middleware(dropping)))
			}}},
		{"audit that keeps a prompt's arguments raw", variant{}, entryAudit, "contains the planted secret",
			&Config{Audit: func(sink audit.Sink) mcpkit.Option {
				return mcpkit.WithMiddleware(func(next mcpkit.Handler) mcpkit.Handler {
					return func(ctx context.Context, c *mcpkit.Call) (*mcp.CallToolResult, error) {
						res, err := next(ctx, c)
						_ = sink.Write(ctx, &audit.Record{ID: "x", Time: audit.Time{Time: c.Start}, Operation: string(c.Operation), Target: c.Target,
							Principal: audit.Principal{Subject: c.Identity.Subject}, Outcome: string(c.Outcome()), Arguments: c.Arguments})
						return res, err
					}
				})
			}}},
		{"audit that skips unknown resources", variant{}, entryAudit, "want exactly one each",
			&Config{Audit: func(sink audit.Sink) mcpkit.Option {
				return mcpkit.WithMiddleware(must(audit.Middleware(audit.SinkFunc(func(ctx context.Context, r *audit.Record) error {
					if r.Outcome == string(mcpkit.OutcomeUnknownResource) {
						return nil
					}
					return sink.Write(ctx, r)
				}))))
			}}},
		{"scopes declared but not enforced", withOption(mcpkit.WithoutScopeEnforcement()),
			"scopes/a caller without a tool's scopes can neither list nor call it", "update_thing requires scope things:write, but tools/list shows it", nil},
		{"scopes declared on a resource but not enforced", withOption(mcpkit.WithoutScopeEnforcement()),
			"scopes/a caller without a resource's or prompt's scopes can neither list nor read or get it",
			"resource status requires scope things:read, but resources/list shows it to a caller without it", nil},
		{"scope check that hides a prompt but lets it be got", variant{opts: []mcpkit.Option{mcpkit.WithoutScopeEnforcement(), mcpkit.WithGates(mcpkit.GateFunc(
			func(ctx context.Context, c *mcpkit.Call) error {
				if c.Listing() && !c.Identity.HasScopes(c.Tool.Policy.Scopes...) {
					return fmt.Errorf("hidden")
				}
				return nil
			}))}},
			"scopes/a caller without a resource's or prompt's scopes can neither list nor read or get it",
			"prompt summarize_thing requires scope things:admin, but prompts/get from a caller without it got past every gate", nil},
		{"scope check that spares completions and subscriptions", variant{opts: []mcpkit.Option{mcpkit.WithoutScopeEnforcement(), withSDKHandlers(), mcpkit.WithGates(mcpkit.GateFunc(
			func(ctx context.Context, c *mcpkit.Call) error {
				if c.Operation == mcpkit.OpComplete || c.Operation == mcpkit.OpSubscribeResource {
					return nil
				}
				return mcpkit.ScopeGate().Check(ctx, c)
			}))}},
			"scopes/a caller without a resource's or prompt's scopes can neither list nor read or get it",
			"but completion/complete of its argument", nil},
		{"scope check that spares subscriptions", variant{opts: []mcpkit.Option{mcpkit.WithoutScopeEnforcement(), withSDKHandlers(), mcpkit.WithGates(mcpkit.GateFunc(
			func(ctx context.Context, c *mcpkit.Call) error {
				if c.Operation == mcpkit.OpSubscribeResource {
					return nil
				}
				return mcpkit.ScopeGate().Check(ctx, c)
			}))}},
			"scopes/a caller without a resource's or prompt's scopes can neither list nor read or get it",
			"resources/subscribe of", nil},
		{"scope check that hides but does not refuse", hidingScopeCheck(),
			"scopes/a caller without a tool's scopes can neither list nor call it", "delete_thing requires scope things:admin, but a call from a caller without it got past every gate", nil},
		{"flag gate not wired", variant{}, "flags/a tool whose flag is off is hidden and refused, and back when on", "is listed while its flag",
			&Config{Flags: func(flags.Client) mcpkit.Option { return mcpkit.WithGates() }}},
		{"flag gate that only guards tools", variant{}, "flags/a resource or prompt whose flag is off is hidden and refused, and back when on",
			"resource status (things://status) is listed by resources/list while its flag resource.status is off",
			&Config{Flags: func(c flags.Client) mcpkit.Option {
				g := must(flags.NewGate(c))
				return mcpkit.WithGates(mcpkit.GateFunc(func(ctx context.Context, call *mcpkit.Call) error {
					if call.Tool.Kind != mcpkit.KindTool && call.Tool.Kind != "" {
						return nil
					}
					return g.Check(ctx, call)
				}))
			}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var ran int
			var opts Config
			if tc.opts != nil {
				opts = *tc.opts
			}
			r := runFake(t, goodServer(&ran, tc.mutate), opts)
			res := r.results[tc.check]
			require.NotNil(t, res)
			assert.True(t, res.failed, "check %q should fail", tc.check)
			assert.Contains(t, strings.Join(res.messages, "\n"), tc.says)
		})
	}
}

func TestGoldenFilesCatchASurfaceChange(t *testing.T) {
	var ran int
	opts := goldenOpts(t)
	opts.Update = true
	runFake(t, goodServer(&ran, variant{}), opts)
	opts.Update = false
	changed := goodServer(&ran, variant{opts: []mcpkit.Option{mcpkit.WithExtraVerbs("frob")}, after: func(s *mcpkit.Server) {
		mcpkit.MustAddTool(s, mcpkit.Tool{Name: "frob_thing", Description: "Frob.", Policy: mcpkit.Policy{Risk: mcpkit.Write, Public: true}},
			func(context.Context, idIn) (thing, error) { return thing{}, nil })
	}})
	r := runFake(t, changed, opts)
	for _, name := range []string{"golden/tool surface matches the reviewed file", "golden/POLICY.md matches the policies"} {
		assert.True(t, r.results[name].failed, name)
		assert.Contains(t, strings.Join(r.results[name].messages, "\n"), "-update")
	}
}

func TestSkipPrintsTheReasonAndRejectsUnknownNames(t *testing.T) {
	var ran int
	r := &fakeRunner{results: map[string]*fakeTB{}}
	outer := &fakeTB{name: "outer"}
	run(r, outer, goodServer(&ran, variant{approval: mcpkit.ApprovalNever()}), Config{Skip: map[string]string{
		"surface/destructive tools require approval": "reviewed: delete_thing only removes test fixtures",
		"no such check": "x",
	}})
	res := r.results["surface/destructive tools require approval"]
	assert.True(t, res.skipped)
	assert.False(t, res.failed)
	assert.Contains(t, strings.Join(res.messages, ""), "reviewed: delete_thing only removes test fixtures")
	assert.True(t, outer.failed, "an unknown check name in Skip is an error")
	assert.Contains(t, strings.Join(outer.messages, "\n"), `"no such check"`)
}

// must returns v, panicking on err: for building values from options a
// test knows to be valid (constructors return their errors).
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// withSDKHandlers turns the SDK's resource subscriptions and completions
// on, with handlers that accept everything.
func withSDKHandlers() mcpkit.Option {
	return mcpkit.WithServerOptions(&mcp.ServerOptions{
		SubscribeHandler:   func(context.Context, *mcp.SubscribeRequest) error { return nil },
		UnsubscribeHandler: func(context.Context, *mcp.UnsubscribeRequest) error { return nil },
		CompletionHandler: func(context.Context, *mcp.CompleteRequest) (*mcp.CompleteResult, error) {
			return &mcp.CompleteResult{Completion: mcp.CompletionResultDetails{Values: []string{}}}, nil
		},
	})
}
