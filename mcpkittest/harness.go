package mcpkittest

import (
	"context"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// Harness is a real go-sdk client connected in memory to an mcpkit server,
// as a chosen identity, on a chosen protocol version. Use it to unit-test
// tool handlers through the whole chain (schemas, validation, gates,
// approval) rather than around it.
type Harness struct {
	// Server is the server under test.
	Server *mcpkit.Server
	// Session is the connected client session. Use it directly for what
	// Call does not cover (request state, _meta, resources).
	Session *mcp.ClientSession
	// ServerSession is the server's side of the connection.
	ServerSession *mcp.ServerSession

	tb  testing.TB
	ctx context.Context
}

// HarnessOption configures a Harness.
type HarnessOption func(*harnessConfig)

type harnessConfig struct {
	identity *mcpkit.Identity
	elicit   func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error)
	client   *mcp.Implementation
	version  string
	copts    mcp.ClientOptions
}

// WithProtocolVersion negotiates version (for example "2025-11-25", on
// which the server still sends elicitation/create itself) instead of the
// client's newest. NewHarness fails the test if the server settles on
// another version.
func WithProtocolVersion(version string) HarnessOption {
	return func(c *harnessConfig) { c.version = version }
}

// WithClientOptions configures the go-sdk client: handlers for
// elicitation, sampling, list changes, logging. The Elicit options set the
// elicitation handler over the one in o. A nil o leaves the defaults.
func WithClientOptions(o *mcp.ClientOptions) HarnessOption {
	return func(c *harnessConfig) {
		if o != nil {
			c.copts = *o
		}
	}
}

// WithIdentity connects as id. The identity travels on the connection's
// context, which the server consults before its default identity; a server
// built with WithIdentityResolver decides for itself.
func WithIdentity(id mcpkit.Identity) HarnessOption {
	return func(c *harnessConfig) { c.identity = &id }
}

// WithClientInfo sets the client's name and version (default "mcpkittest",
// "1"). The server sees them in Identity.ClientName and ClientVersion and in
// the audit record; a server whose identity resolver trusts the client name
// can be played as several principals this way.
func WithClientInfo(name, version string) HarnessOption {
	return func(c *harnessConfig) { c.client = &mcp.Implementation{Name: name, Version: version} }
}

// WithElicitHandler answers every elicitation (approval prompts) with f.
func WithElicitHandler(f func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error)) HarnessOption {
	return func(c *harnessConfig) { c.elicit = f }
}

// WithElicitApprove answers every elicitation by accepting with confirm: true.
func WithElicitApprove(reason string) HarnessOption {
	return WithElicitHandler(func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
		content := map[string]any{"confirm": true}
		if reason != "" {
			content["reason"] = reason
		}
		return &mcp.ElicitResult{Action: "accept", Content: content}, nil
	})
}

// WithElicitDecline answers every elicitation with "decline".
func WithElicitDecline() HarnessOption {
	return WithElicitHandler(func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
		return &mcp.ElicitResult{Action: "decline"}, nil
	})
}

// WithElicitCancel answers every elicitation with "cancel".
func WithElicitCancel() HarnessOption {
	return WithElicitHandler(func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
		return &mcp.ElicitResult{Action: "cancel"}, nil
	})
}

// NewHarness connects a client to srv. The connection closes when the test
// ends, and the server's side has finished by then.
func NewHarness(tb testing.TB, srv *mcpkit.Server, opts ...HarnessOption) *Harness {
	tb.Helper()
	cfg := harnessConfig{client: &mcp.Implementation{Name: "mcpkittest", Version: "1"}}
	for _, o := range opts {
		o(&cfg)
	}
	ctx := context.Background()
	serverCtx := ctx
	if cfg.identity != nil {
		serverCtx = mcpkit.ContextWithIdentity(ctx, *cfg.identity)
	}
	ct, st := mcp.NewInMemoryTransports()
	ss, err := srv.MCPServer().Connect(serverCtx, st, nil)
	if err != nil {
		tb.Fatalf("mcpkittest: connect server: %v", err)
	}
	tb.Cleanup(func() {
		_ = ss.Close()
		_ = ss.Wait()
	})
	copts := cfg.copts
	if cfg.elicit != nil {
		copts.ElicitationHandler = cfg.elicit
	}
	cs, err := mcp.NewClient(cfg.client, &copts).Connect(ctx, ct, &mcp.ClientSessionOptions{ProtocolVersion: cfg.version})
	if err != nil {
		tb.Fatalf("mcpkittest: connect client: %v", err)
	}
	tb.Cleanup(func() { _ = cs.Close() })
	if got := cs.InitializeResult().ProtocolVersion; cfg.version != "" && got != cfg.version {
		tb.Fatalf("mcpkittest: asked for protocol version %s, the server settled on %s", cfg.version, got)
	}
	return &Harness{Server: srv, Session: cs, ServerSession: ss, tb: tb, ctx: ctx}
}

// ProtocolVersion returns the protocol version the session negotiated.
func (h *Harness) ProtocolVersion() string { return h.Session.InitializeResult().ProtocolVersion }

// Call calls a tool. A protocol error is returned; a tool error is a result
// with IsError set.
func (h *Harness) Call(name string, args any) (*mcp.CallToolResult, error) {
	return h.Session.CallTool(h.ctx, &mcp.CallToolParams{Name: name, Arguments: args})
}

// MustCall calls a tool and fails the test on a protocol error.
func (h *Harness) MustCall(name string, args any) *mcp.CallToolResult {
	h.tb.Helper()
	res, err := h.Call(name, args)
	if err != nil {
		h.tb.Fatalf("mcpkittest: call %s: %v", name, err)
	}
	return res
}

// List returns every tool the connected identity sees, across pages.
func (h *Harness) List() []*mcp.Tool {
	h.tb.Helper()
	var tools []*mcp.Tool
	for tool, err := range h.Session.Tools(h.ctx, nil) {
		if err != nil {
			h.tb.Fatalf("mcpkittest: tools/list: %v", err)
		}
		tools = append(tools, tool)
	}
	return tools
}

// Names returns the names List returns.
func (h *Harness) Names() []string {
	var names []string
	for _, t := range h.List() {
		names = append(names, t.Name)
	}
	return names
}

// Text returns the concatenated text content of a result ("" for nil), the
// words a model reads: an error message, or the JSON of a typed tool's
// output.
func Text(res *mcp.CallToolResult) string {
	if res == nil {
		return ""
	}
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// Read reads a resource. A refusal is a JSON-RPC error (*jsonrpc.Error)
// whose data names the audit outcome.
func (h *Harness) Read(uri string) (*mcp.ReadResourceResult, error) {
	return h.Session.ReadResource(h.ctx, &mcp.ReadResourceParams{URI: uri})
}

// GetPrompt gets a prompt with its arguments. A refusal is a JSON-RPC
// error, as for Read.
func (h *Harness) GetPrompt(name string, args map[string]string) (*mcp.GetPromptResult, error) {
	return h.Session.GetPrompt(h.ctx, &mcp.GetPromptParams{Name: name, Arguments: args})
}

// Resources returns every resource the connected identity sees in
// resources/list, across pages.
func (h *Harness) Resources() []*mcp.Resource {
	h.tb.Helper()
	var out []*mcp.Resource
	for r, err := range h.Session.Resources(h.ctx, nil) {
		if err != nil {
			h.tb.Fatalf("mcpkittest: resources/list: %v", err)
		}
		out = append(out, r)
	}
	return out
}

// ResourceTemplates returns every resource template the connected identity
// sees in resources/templates/list, across pages.
func (h *Harness) ResourceTemplates() []*mcp.ResourceTemplate {
	h.tb.Helper()
	var out []*mcp.ResourceTemplate
	for r, err := range h.Session.ResourceTemplates(h.ctx, nil) {
		if err != nil {
			h.tb.Fatalf("mcpkittest: resources/templates/list: %v", err)
		}
		out = append(out, r)
	}
	return out
}

// Prompts returns every prompt the connected identity sees in
// prompts/list, across pages.
func (h *Harness) Prompts() []*mcp.Prompt {
	h.tb.Helper()
	var out []*mcp.Prompt
	for p, err := range h.Session.Prompts(h.ctx, nil) {
		if err != nil {
			h.tb.Fatalf("mcpkittest: prompts/list: %v", err)
		}
		out = append(out, p)
	}
	return out
}
