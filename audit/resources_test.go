package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
	"github.com/mcpkit-go/mcpkit/transport"
)

// plantedSecret is a credential an incident note carries by mistake: the
// client reading the resource receives it, the audit record never holds it.
const plantedSecret = "ghp_0123456789abcdefghijABCDEFGHIJ012345"

type incidentRef struct {
	ID string `json:"id" jsonschema:"description=Incident id such as INC-42,pattern=^INC-[0-9]+$,maxLength=10"`
}

type postmortemArgs struct {
	ID    string `json:"id" jsonschema:"description=Incident id such as INC-42,pattern=^INC-[0-9]+$,maxLength=10"`
	Depth int    `json:"depth,omitempty" jsonschema:"description=How deep the analysis goes,minimum=1,maximum=3"`
}

// resourceFixture is a server with a public fixed resource, an incident
// template and a postmortem prompt needing incidents:read, audited to a
// memory sink; runs counts handler runs.
type resourceFixture struct {
	srv     *mcpkit.Server
	auditor *audit.Auditor
	sink    *memSink
	runs    *atomic.Int64
	seen    *atomic.Value // last postmortemArgs the prompt handler saw
}

func newResourceFixture(t *testing.T, opts ...mcpkit.Option) *resourceFixture {
	t.Helper()
	return newAuditedResourceFixture(t, nil, opts...)
}

func newAuditedResourceFixture(t *testing.T, auditOpts []audit.Option, opts ...mcpkit.Option) *resourceFixture {
	t.Helper()
	f := &resourceFixture{sink: &memSink{}, runs: &atomic.Int64{}, seen: &atomic.Value{}}
	a := must(audit.New(f.sink, auditOpts...))
	f.auditor = a
	f.srv = must(mcpkit.NewServer(&mcp.Implementation{Name: "incidents", Version: "1.0.0"},
		append([]mcpkit.Option{mcpkit.WithMiddleware(a.Middleware())}, opts...)...))
	require.NoError(t, mcpkit.AddResource(f.srv, mcpkit.Resource{URI: "docs://runbook", Name: "runbook", MIMEType: "text/markdown",
		Description: "The on-call runbook.", Policy: mcpkit.Policy{Public: true}},
		func(context.Context) ([]*mcp.ResourceContents, error) {
			f.runs.Add(1)
			return []*mcp.ResourceContents{{Text: "Rotate the deploy token " + plantedSecret + " after use."}}, nil
		}))
	require.NoError(t, mcpkit.AddResourceTemplate(f.srv, mcpkit.ResourceTemplate{URITemplate: "incident://{id}", Name: "incident",
		MIMEType: "application/json", Description: "One incident.", Policy: mcpkit.Policy{Scopes: []string{"incidents:read"}}},
		func(ctx context.Context, in incidentRef) ([]*mcp.ResourceContents, error) {
			f.runs.Add(1)
			c, _ := mcpkit.CallFromContext(ctx)
			return []*mcp.ResourceContents{{Text: `{"id":"` + in.ID + `","uri":"` + c.Target + `"}`}}, nil
		}))
	require.NoError(t, mcpkit.AddPrompt(f.srv, mcpkit.Prompt{Name: "postmortem", Description: "Draft a postmortem for an incident.",
		Policy: mcpkit.Policy{Scopes: []string{"incidents:read"}}},
		func(_ context.Context, in postmortemArgs) ([]*mcp.PromptMessage, error) {
			f.runs.Add(1)
			f.seen.Store(in)
			return []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: "Write the postmortem of " + in.ID}}}, nil
		}))
	return f
}

func (f *resourceFixture) last(t *testing.T) audit.Record {
	t.Helper()
	recs := f.sink.finals()
	require.NotEmpty(t, recs, "every read and get leaves a record")
	return recs[len(recs)-1]
}

var (
	reader   = mcpkit.Identity{Subject: "alice", Scopes: []string{"incidents:read"}, AuthMethod: "local"}
	stranger = mcpkit.Identity{Subject: "mallory", AuthMethod: "local"}
)

func rpcError(t *testing.T, err error) *jsonrpc.Error {
	t.Helper()
	var we *jsonrpc.Error
	require.Error(t, err)
	require.True(t, errors.As(err, &we), "want a JSON-RPC error, got %T: %v", err, err)
	return we
}

func TestResourceAndPromptWithoutScopeAreHiddenRefusedAndAudited(t *testing.T) {
	f := newResourceFixture(t)
	h := mcpkittest.NewHarness(t, f.srv, mcpkittest.WithIdentity(stranger))
	ctx := context.Background()

	res, err := h.Session.ListResources(ctx, nil)
	require.NoError(t, err)
	require.Len(t, res.Resources, 1)
	assert.Equal(t, "docs://runbook", res.Resources[0].URI)
	assert.Equal(t, mcpkit.CacheScopePrivate, res.CacheScope, "a list the gates filter per caller is private")
	tmpl, err := h.Session.ListResourceTemplates(ctx, nil)
	require.NoError(t, err)
	assert.Empty(t, tmpl.ResourceTemplates, "a template the caller may not read is not listed")
	assert.Equal(t, mcpkit.CacheScopePrivate, tmpl.CacheScope)
	prompts, err := h.Session.ListPrompts(ctx, nil)
	require.NoError(t, err)
	assert.Empty(t, prompts.Prompts, "a prompt the caller may not get is not listed")

	_, err = h.Session.ReadResource(ctx, &mcp.ReadResourceParams{URI: "incident://INC-7"})
	we := rpcError(t, err)
	assert.Equal(t, mcpkit.RefusedRPCCode, we.Code)
	assert.Equal(t, "resource incident requires scope incidents:read, which your credentials do not grant", we.Message)
	assert.JSONEq(t, `{"outcome":"denied_scope"}`, string(we.Data))
	rec := f.last(t)
	assert.Equal(t, "denied_scope", rec.Outcome)
	assert.Equal(t, "resources/read", rec.Operation)
	assert.Equal(t, "incident://INC-7", rec.Target)
	assert.Empty(t, rec.Tool, "the tool field is a tool call's only")
	assert.Equal(t, "mallory", rec.Principal.Subject)

	_, err = h.Session.GetPrompt(ctx, &mcp.GetPromptParams{Name: "postmortem", Arguments: map[string]string{"id": "INC-7"}})
	we = rpcError(t, err)
	assert.Equal(t, "prompt postmortem requires scope incidents:read, which your credentials do not grant", we.Message)
	rec = f.last(t)
	assert.Equal(t, "denied_scope", rec.Outcome)
	assert.Equal(t, "prompts/get", rec.Operation)
	assert.Equal(t, "postmortem", rec.Target)

	assert.Zero(t, f.runs.Load(), "no handler ran for a caller without the scope")
	assert.Len(t, f.sink.finals(), 2)
}

func TestResourceTemplateRefusesMalformedVariablesBeforeTheHandler(t *testing.T) {
	f := newResourceFixture(t)
	h := mcpkittest.NewHarness(t, f.srv, mcpkittest.WithIdentity(reader))
	ctx := context.Background()
	cases := map[string]string{
		"incident://..%2F..%2Fetc%2Fpasswd": "must not contain a slash",
		"incident://..":                     `must not be "." or ".."`,
		"incident://%2e%2e":                 `must not be "." or ".."`,
		"incident://INC-1%00":               "control characters",
		"incident://INC-1%zz":               "malformed percent-encoding",
		"incident://drop-table":             "arguments.id",
		"incident://INC-1234567":            "arguments.id",
	}
	for uri, want := range cases {
		_, err := h.Session.ReadResource(ctx, &mcp.ReadResourceParams{URI: uri})
		we := rpcError(t, err)
		assert.Equal(t, int64(jsonrpc.CodeInvalidParams), we.Code, uri)
		assert.Contains(t, we.Message, want, uri)
		rec := f.last(t)
		assert.Equal(t, "invalid_input", rec.Outcome, uri)
		assert.Equal(t, "resources/read", rec.Operation, uri)
	}
	assert.Zero(t, f.runs.Load(), "the handler never saw a malformed variable")
	assert.Len(t, f.sink.finals(), len(cases))

	got, err := h.Session.ReadResource(ctx, &mcp.ReadResourceParams{URI: "incident://INC-42"})
	require.NoError(t, err)
	require.Len(t, got.Contents, 1)
	assert.JSONEq(t, `{"id":"INC-42","uri":"incident://INC-42"}`, got.Contents[0].Text)
	assert.Equal(t, "application/json", got.Contents[0].MIMEType)
	assert.Equal(t, "incident://INC-42", got.Contents[0].URI)
	assert.Equal(t, mcpkit.CacheScopePrivate, got.CacheScope, "a read the gates decide per caller is private")
	rec := f.last(t)
	assert.Equal(t, "ok", rec.Outcome)
	assert.JSONEq(t, `{"id":"INC-42"}`, string(rec.Arguments))
	assert.Equal(t, "read_only", rec.Risk)
}

func TestResourceContentsAreRedactedInTheRecord(t *testing.T) {
	f := newResourceFixture(t)
	h := mcpkittest.NewHarness(t, f.srv, mcpkittest.WithIdentity(stranger))
	got, err := h.Session.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: "docs://runbook"})
	require.NoError(t, err)
	assert.Contains(t, got.Contents[0].Text, plantedSecret, "the caller reads the resource as written")
	assert.Equal(t, "text/markdown", got.Contents[0].MIMEType)
	rec := f.last(t)
	assert.Equal(t, "ok", rec.Outcome)
	assert.Equal(t, "docs://runbook", rec.Target)
	require.NotEmpty(t, rec.Result)
	assert.NotContains(t, string(rec.Result), plantedSecret)
	assert.Contains(t, string(rec.Result), "[REDACTED")
	assert.Contains(t, string(rec.Result), "Rotate the deploy token")
	b, err := json.Marshal(rec)
	require.NoError(t, err)
	assert.NotContains(t, string(b), plantedSecret)
}

func TestPromptArgumentsAreTypedAndValidated(t *testing.T) {
	f := newResourceFixture(t)
	h := mcpkittest.NewHarness(t, f.srv, mcpkittest.WithIdentity(reader))
	ctx := context.Background()
	list, err := h.Session.ListPrompts(ctx, nil)
	require.NoError(t, err)
	require.Len(t, list.Prompts, 1)
	args := map[string]bool{}
	for _, a := range list.Prompts[0].Arguments {
		args[a.Name] = a.Required
		assert.NotEmpty(t, a.Description)
	}
	assert.Equal(t, map[string]bool{"id": true, "depth": false}, args)

	bad := []map[string]string{
		{"id": "INC-1", "depth": "deep"},
		{"id": "INC-1", "depth": "9"},
		{"depth": "2"},
		{"id": "INC-1", "extra": "x"},
		{"id": "../INC-1"},
	}
	for _, a := range bad {
		_, err := h.Session.GetPrompt(ctx, &mcp.GetPromptParams{Name: "postmortem", Arguments: a})
		we := rpcError(t, err)
		assert.Equal(t, int64(jsonrpc.CodeInvalidParams), we.Code, a)
		assert.Contains(t, we.Message, "arguments", a)
		assert.Equal(t, "invalid_input", f.last(t).Outcome, a)
	}
	assert.Zero(t, f.runs.Load())

	res, err := h.Session.GetPrompt(ctx, &mcp.GetPromptParams{Name: "postmortem", Arguments: map[string]string{"id": "INC-9", "depth": "2"}})
	require.NoError(t, err)
	require.Len(t, res.Messages, 1)
	assert.Equal(t, "Write the postmortem of INC-9", res.Messages[0].Content.(*mcp.TextContent).Text)
	assert.Equal(t, postmortemArgs{ID: "INC-9", Depth: 2}, f.seen.Load())
	rec := f.last(t)
	assert.Equal(t, "ok", rec.Outcome)
	assert.Equal(t, "prompts/get", rec.Operation)
	assert.JSONEq(t, `{"id":"INC-9","depth":2}`, string(rec.Arguments))
	assert.Contains(t, string(rec.Result), "Write the postmortem of INC-9")
}

func TestUnknownResourceAndPromptAreAuditedWithTheTargetRedacted(t *testing.T) {
	f := newResourceFixture(t)
	h := mcpkittest.NewHarness(t, f.srv, mcpkittest.WithIdentity(reader))
	ctx := context.Background()
	_, err := h.Session.ReadResource(ctx, &mcp.ReadResourceParams{URI: "secret://" + plantedSecret})
	we := rpcError(t, err)
	assert.Equal(t, int64(jsonrpc.CodeInvalidParams), we.Code)
	rec := f.last(t)
	assert.Equal(t, "unknown_resource", rec.Outcome)
	assert.Equal(t, "resources/read", rec.Operation)
	assert.NotContains(t, rec.Target, plantedSecret)
	assert.True(t, strings.HasPrefix(rec.Target, "secret://"), rec.Target)
	b, _ := json.Marshal(rec)
	assert.NotContains(t, string(b), plantedSecret)

	_, err = h.Session.GetPrompt(ctx, &mcp.GetPromptParams{Name: plantedSecret})
	rpcError(t, err)
	rec = f.last(t)
	assert.Equal(t, "unknown_prompt", rec.Outcome)
	assert.Equal(t, "prompts/get", rec.Operation)
	b, _ = json.Marshal(rec)
	assert.NotContains(t, string(b), plantedSecret)
	assert.Zero(t, f.runs.Load())
}

// readOverSession plays the scope checks over a connected session: the
// stranger-facing half and the reader-facing half are separate sessions.
func playResourcesOverSession(t *testing.T, f *resourceFixture, cs *mcp.ClientSession, allowed bool) {
	t.Helper()
	ctx := context.Background()
	tmpl, err := cs.ListResourceTemplates(ctx, nil)
	require.NoError(t, err)
	prompts, err := cs.ListPrompts(ctx, nil)
	require.NoError(t, err)
	before := f.runs.Load()
	_, rerr := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "incident://INC-3"})
	_, perr := cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "postmortem", Arguments: map[string]string{"id": "INC-3"}})
	recs := f.sink.finals()
	require.GreaterOrEqual(t, len(recs), 2)
	if allowed {
		assert.Len(t, tmpl.ResourceTemplates, 1)
		assert.Len(t, prompts.Prompts, 1)
		assert.NoError(t, rerr)
		assert.NoError(t, perr)
		assert.Equal(t, before+2, f.runs.Load())
		assert.Equal(t, "ok", recs[len(recs)-2].Outcome)
		assert.Equal(t, "ok", recs[len(recs)-1].Outcome)
		return
	}
	assert.Empty(t, tmpl.ResourceTemplates)
	assert.Empty(t, prompts.Prompts)
	assert.Contains(t, rpcError(t, rerr).Message, "requires scope incidents:read")
	assert.Contains(t, rpcError(t, perr).Message, "requires scope incidents:read")
	assert.Equal(t, before, f.runs.Load())
	assert.Equal(t, "denied_scope", recs[len(recs)-2].Outcome)
	assert.Equal(t, "resources/read", recs[len(recs)-2].Operation)
	assert.Equal(t, "denied_scope", recs[len(recs)-1].Outcome)
	assert.Equal(t, "prompts/get", recs[len(recs)-1].Operation)
}

var resourceProtocols = []string{"2025-11-25", "2026-07-28"}

func TestResourcesAndPromptsOverStdio(t *testing.T) {
	for _, version := range resourceProtocols {
		for _, allowed := range []bool{false, true} {
			t.Run(version, func(t *testing.T) {
				f := newResourceFixture(t)
				scopes := []string{"other:read"}
				if allowed {
					scopes = []string{"incidents:read"}
				}
				cr, sw := io.Pipe()
				sr, cw := io.Pipe()
				done := make(chan error, 1)
				ctx, cancel := context.WithCancel(context.Background())
				go func() {
					done <- transport.ServeStdio(ctx, f.srv, transport.WithStdio(sr, sw), transport.WithLocalScopes(scopes...))
				}()
				cs, err := mcp.NewClient(&mcp.Implementation{Name: "stdio-client", Version: "1"}, nil).
					Connect(context.Background(), &mcp.IOTransport{Reader: cr, Writer: cw}, &mcp.ClientSessionOptions{ProtocolVersion: version})
				require.NoError(t, err)
				playResourcesOverSession(t, f, cs, allowed)
				_ = cs.Close()
				cancel()
				_ = sw.Close()
				<-done
			})
		}
	}
}

func TestResourcesAndPromptsOverHTTP(t *testing.T) {
	const readerToken, strangerToken = "tok-reader-0123456789abcdef", "tok-stranger-0123456789abcdef"
	for _, version := range resourceProtocols {
		t.Run(version, func(t *testing.T) {
			f := newResourceFixture(t)
			st, err := transport.ParseStaticTokens([]byte(`{"` + readerToken + `": {"sub": "alice", "scopes": ["incidents:read"]},` +
				`"` + strangerToken + `": {"sub": "mallory", "scopes": ["other:read"]}}`))
			require.NoError(t, err)
			h, err := transport.NewHandler(f.srv, transport.WithAuthenticator(st))
			require.NoError(t, err)
			ts := httptest.NewServer(h)
			t.Cleanup(ts.Close)
			for _, tc := range []struct {
				token   string
				allowed bool
			}{{strangerToken, false}, {readerToken, true}} {
				cs, err := mcp.NewClient(&mcp.Implementation{Name: "http-client", Version: "1"}, nil).Connect(context.Background(),
					&mcp.StreamableClientTransport{Endpoint: ts.URL + "/mcp", HTTPClient: &http.Client{Transport: bearer{tc.token}}},
					&mcp.ClientSessionOptions{ProtocolVersion: version})
				require.NoError(t, err)
				playResourcesOverSession(t, f, cs, tc.allowed)
				assert.Equal(t, "static", f.last(t).Principal.Auth)
				_ = cs.Close()
			}
		})
	}
}

func TestResourceResultDigestKeepsNoContents(t *testing.T) {
	f := newAuditedResourceFixture(t, []audit.Option{audit.WithResultDigest("runbook")})
	h := mcpkittest.NewHarness(t, f.srv, mcpkittest.WithIdentity(stranger))
	_, err := h.Session.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: "docs://runbook"})
	require.NoError(t, err)
	rec := f.last(t)
	assert.Contains(t, string(rec.Result), `"digest_only":true`)
	assert.NotContains(t, string(rec.Result), "Rotate the deploy token")
}

// The chain seals operation and target: the file verifies as written, and
// a record whose target is edited afterwards does not.
func TestResourceRecordsAreSealedInTheChain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	file, err := openFile(path)
	require.NoError(t, err)
	a := must(audit.New(file))
	srv := must(mcpkit.NewServer(&mcp.Implementation{Name: "incidents", Version: "1.0.0"}, mcpkit.WithMiddleware(a.Middleware())))
	require.NoError(t, mcpkit.AddResourceTemplate(srv, mcpkit.ResourceTemplate{URITemplate: "incident://{id}", Name: "incident",
		Description: "One incident.", Policy: mcpkit.Policy{Public: true}},
		func(_ context.Context, in incidentRef) ([]*mcp.ResourceContents, error) {
			return []*mcp.ResourceContents{{Text: in.ID}}, nil
		}))
	h := mcpkittest.NewHarness(t, srv, mcpkittest.WithIdentity(reader))
	_, err = h.Session.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: "incident://INC-1"})
	require.NoError(t, err)
	require.NoError(t, file.Close(context.Background()))

	res, err := audit.Verify(testKeys, path)
	require.NoError(t, err)
	assert.Equal(t, 1, res.Calls)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Contains(t, string(b), `"operation":"resources/read","target":"incident://INC-1"`)

	require.NoError(t, os.WriteFile(path, bytes.Replace(b, []byte(`"target":"incident://INC-1"`), []byte(`"target":"incident://INC-2"`), 1), 0o600))
	_, err = audit.Verify(testKeys, path)
	assert.Error(t, err, "an edited target breaks the seal")
}
