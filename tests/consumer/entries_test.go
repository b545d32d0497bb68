package consumer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
	"github.com/mcpkit-go/mcpkit/transport"
)

// The notes server below is built from this module, outside the library,
// with the public API only: a fixed resource, a resource template and a
// prompt behind one scope, audited to a sink of its own.

const notesScope = "notes:read"

type NoteRef struct {
	ID string `json:"id" jsonschema:"description=Note id such as N-1,pattern=^N-[0-9]+$,maxLength=12,example=N-1"`
}

type SummaryArgs struct {
	ID string `json:"id" jsonschema:"description=Note id such as N-1,pattern=^N-[0-9]+$,example=N-1"`
}

// notesRuns counts the handlers' runs, so a test can assert that a
// refused read or get never reached one.
type notesRuns struct{ index, note, summary atomic.Int64 }

func (r *notesRuns) total() int64 { return r.index.Load() + r.note.Load() + r.summary.Load() }

func newNotesServer(runs *notesRuns, opts ...mcpkit.Option) (*mcpkit.Server, error) {
	srv, err := mcpkit.NewServer(&mcp.Implementation{Name: "notes", Version: "0.1.0"}, opts...)
	if err != nil {
		return nil, err
	}
	policy := mcpkit.Policy{Scopes: []string{notesScope}}
	err = mcpkit.AddResource(srv, mcpkit.Resource{
		URI: "notes://index", Name: "note_index", MIMEType: "text/plain",
		Description: "The ids of every note.", Policy: policy,
	}, func(ctx context.Context) ([]*mcp.ResourceContents, error) {
		runs.index.Add(1)
		return []*mcp.ResourceContents{{Text: "N-1\nN-2"}}, nil
	})
	if err != nil {
		return nil, err
	}
	err = mcpkit.AddResourceTemplate(srv, mcpkit.ResourceTemplate{
		URITemplate: "note://{id}", Name: "note", MIMEType: "text/plain",
		Description: "One note's text.", Policy: policy,
	}, func(ctx context.Context, in NoteRef) ([]*mcp.ResourceContents, error) {
		runs.note.Add(1)
		if in.ID != "N-1" && in.ID != "N-2" {
			return nil, mcpkit.ResourceNotFound("note://" + in.ID)
		}
		return []*mcp.ResourceContents{{Text: "the text of " + in.ID}}, nil
	})
	if err != nil {
		return nil, err
	}
	err = mcpkit.AddPrompt(srv, mcpkit.Prompt{
		Name: "summary", Description: "Summarise one note.", Policy: policy,
	}, func(ctx context.Context, in SummaryArgs) ([]*mcp.PromptMessage, error) {
		runs.summary.Add(1)
		return []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: "Summarise " + in.ID + "."}}}, nil
	})
	if err != nil {
		return nil, err
	}
	return srv, nil
}

// notesSink keeps every audit record the server writes.
type notesSink struct {
	mu   sync.Mutex
	recs []audit.Record
}

func (s *notesSink) Write(_ context.Context, r *audit.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recs = append(s.recs, *r)
	return nil
}

// find returns the final records of op on target by subject.
func (s *notesSink) find(op, target, subject string) []audit.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []audit.Record
	for _, r := range s.recs {
		if r.Phase == "" && r.Operation == op && r.Target == target && r.Principal.Subject == subject {
			out = append(out, r)
		}
	}
	return out
}

// auditedNotes builds the notes server with its audit middleware on a
// fresh sink; scopes are enforced by default.
func auditedNotes(t *testing.T) (*mcpkit.Server, *notesRuns, *notesSink) {
	t.Helper()
	runs, sink := &notesRuns{}, &notesSink{}
	mw, err := audit.Middleware(sink)
	require.NoError(t, err)
	srv, err := newNotesServer(runs, mcpkit.WithMiddleware(mw))
	require.NoError(t, err)
	return srv, runs, sink
}

var (
	notesReader = mcpkit.Identity{Subject: "alice", Scopes: []string{notesScope}}
	notesNobody = mcpkit.Identity{Subject: "mallory"}
)

// entrySession is what the checks need from a connected client.
type entrySession interface {
	ReadResource(context.Context, *mcp.ReadResourceParams) (*mcp.ReadResourceResult, error)
	GetPrompt(context.Context, *mcp.GetPromptParams) (*mcp.GetPromptResult, error)
	ListResources(context.Context, *mcp.ListResourcesParams) (*mcp.ListResourcesResult, error)
	ListResourceTemplates(context.Context, *mcp.ListResourceTemplatesParams) (*mcp.ListResourceTemplatesResult, error)
	ListPrompts(context.Context, *mcp.ListPromptsParams) (*mcp.ListPromptsResult, error)
}

// checkReader: a caller with the scope lists, reads and gets everything,
// each handler runs once per access, and each access has one ok record
// with its operation and target.
func checkReader(ctx context.Context, t *testing.T, cs entrySession, runs *notesRuns, sink *notesSink, subject string) {
	t.Helper()
	res, err := cs.ListResources(ctx, nil)
	require.NoError(t, err)
	require.Len(t, res.Resources, 1)
	require.Equal(t, "notes://index", res.Resources[0].URI)
	tmpl, err := cs.ListResourceTemplates(ctx, nil)
	require.NoError(t, err)
	require.Len(t, tmpl.ResourceTemplates, 1)
	require.Equal(t, "note://{id}", tmpl.ResourceTemplates[0].URITemplate)
	prompts, err := cs.ListPrompts(ctx, nil)
	require.NoError(t, err)
	require.Len(t, prompts.Prompts, 1)
	require.Equal(t, "summary", prompts.Prompts[0].Name)

	before := runs.total()
	index, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "notes://index"})
	require.NoError(t, err)
	require.Equal(t, "N-1\nN-2", index.Contents[0].Text)
	note, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "note://N-2"})
	require.NoError(t, err)
	require.Equal(t, "the text of N-2", note.Contents[0].Text)
	require.Equal(t, "note://N-2", note.Contents[0].URI)
	got, err := cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "summary", Arguments: map[string]string{"id": "N-1"}})
	require.NoError(t, err)
	require.Equal(t, "Summarise N-1.", got.Messages[0].Content.(*mcp.TextContent).Text)
	require.Equal(t, before+3, runs.total(), "each read and get runs its handler once")

	for _, a := range []struct{ op, target string }{
		{"resources/read", "notes://index"},
		{"resources/read", "note://N-2"},
		{"prompts/get", "summary"},
	} {
		recs := sink.find(a.op, a.target, subject)
		require.Len(t, recs, 1, "want one audit record of %s %s by %s; all: %+v", a.op, a.target, subject, sink.recs)
		require.Equal(t, "ok", recs[0].Outcome)
		require.Empty(t, recs[0].Tool, "a %s record names a tool", a.op)
	}
}

// checkNobody: a caller without the scope sees nothing listed, and each
// read or get is a JSON-RPC refusal (RefusedRPCCode, outcome
// denied_scope) naming the scope; no handler runs, and each refusal has
// its denied_scope record.
func checkNobody(ctx context.Context, t *testing.T, cs entrySession, runs *notesRuns, sink *notesSink, subject string) {
	t.Helper()
	res, err := cs.ListResources(ctx, nil)
	require.NoError(t, err)
	require.Empty(t, res.Resources)
	tmpl, err := cs.ListResourceTemplates(ctx, nil)
	require.NoError(t, err)
	require.Empty(t, tmpl.ResourceTemplates)
	prompts, err := cs.ListPrompts(ctx, nil)
	require.NoError(t, err)
	require.Empty(t, prompts.Prompts)

	before := runs.total()
	refused := func(what string, err error) {
		t.Helper()
		var rpc *jsonrpc.Error
		require.True(t, errors.As(err, &rpc), "%s by a caller without %s: want a JSON-RPC refusal, got %v", what, notesScope, err)
		require.Equal(t, mcpkit.RefusedRPCCode, rpc.Code, "%s: %v", what, err)
		var data struct{ Outcome string }
		require.NoError(t, json.Unmarshal(rpc.Data, &data))
		require.Equal(t, "denied_scope", data.Outcome, "%s: %v", what, err)
		require.Contains(t, rpc.Message, notesScope, "%s: the refusal does not name the missing scope", what)
	}
	_, err = cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "notes://index"})
	refused("resources/read notes://index", err)
	_, err = cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "note://N-1"})
	refused("resources/read note://N-1", err)
	_, err = cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "summary", Arguments: map[string]string{"id": "N-1"}})
	refused("prompts/get summary", err)
	require.Equal(t, before, runs.total(), "a refused read or get ran its handler")

	for _, a := range []struct{ op, target string }{
		{"resources/read", "notes://index"},
		{"resources/read", "note://N-1"},
		{"prompts/get", "summary"},
	} {
		recs := sink.find(a.op, a.target, subject)
		require.Len(t, recs, 1, "want one audit record of the refused %s %s by %s; all: %+v", a.op, a.target, subject, sink.recs)
		require.Equal(t, "denied_scope", recs[0].Outcome)
	}
}

// TestEntriesInMemory runs the notes server through a real go-sdk client
// in memory (mcpkittest.NewHarness) as a reader and as a caller without
// the scope.
func TestEntriesInMemory(t *testing.T) {
	srv, runs, sink := auditedNotes(t)
	ctx := context.Background()
	checkReader(ctx, t, mcpkittest.NewHarness(t, srv, mcpkittest.WithIdentity(notesReader)).Session, runs, sink, notesReader.Subject)
	checkNobody(ctx, t, mcpkittest.NewHarness(t, srv, mcpkittest.WithIdentity(notesNobody)).Session, runs, sink, notesNobody.Subject)
}

// TestEntriesOverHTTP serves the notes server with transport.NewHandler
// and static tokens on 127.0.0.1 and runs the same checks through the
// go-sdk's streamable HTTP client, for the identities the tokens name.
func TestEntriesOverHTTP(t *testing.T) {
	srv, runs, sink := auditedNotes(t)
	const readerToken, nobodyToken = "notes-test-token-reader", "notes-test-token-nobody"
	tokens, err := transport.ParseStaticTokens([]byte(fmt.Sprintf(
		`{%q: {"sub": "alice", "scopes": [%q]}, %q: {"sub": "mallory", "scopes": []}}`, readerToken, notesScope, nobodyToken)))
	require.NoError(t, err)
	h, err := transport.NewHandler(srv, transport.WithAuthenticator(tokens))
	require.NoError(t, err)
	hs := httptest.NewServer(h) // 127.0.0.1, an ephemeral port
	t.Cleanup(hs.Close)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	connect := func(token string) *mcp.ClientSession {
		hc := &http.Client{Timeout: 30 * time.Second, Transport: bearer{token: token, next: http.DefaultTransport}}
		client := mcp.NewClient(&mcp.Implementation{Name: "consumer-test", Version: "1"}, nil)
		cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: hs.URL + "/mcp", HTTPClient: hc, MaxRetries: -1}, nil)
		require.NoError(t, err)
		t.Cleanup(func() { _ = cs.Close() })
		return cs
	}
	checkReader(ctx, t, connect(readerToken), runs, sink, "alice")
	checkNobody(ctx, t, connect(nobodyToken), runs, sink, "mallory")
	sink.mu.Lock()
	defer sink.mu.Unlock()
	require.False(t, slices.ContainsFunc(sink.recs, func(r audit.Record) bool { return r.Principal.Auth != "static" }),
		"a record does not carry the token's identity (auth static): %+v", sink.recs)
}

// TestEntriesConformance runs mcpkittest's suite on the notes server: its
// resource and prompt checks (listing consistent with access, scopes,
// one audit record per read and get, flags) apply from outside the
// library as they do inside.
func TestEntriesConformance(t *testing.T) {
	runs := &notesRuns{}
	mcpkittest.Run(t, func(opts ...mcpkit.Option) (*mcpkit.Server, error) {
		return newNotesServer(runs, opts...)
	}, mcpkittest.Config{})
	require.Zero(t, runs.total(), "the conformance suite ran a handler")
}
