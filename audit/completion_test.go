package audit_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
	"github.com/mcpkit-go/mcpkit/transport"
)

// completer is a team's CompletionHandler: it offers incident ids and
// counts its runs.
func completer(runs *atomic.Int64) *mcp.ServerOptions {
	return &mcp.ServerOptions{CompletionHandler: func(context.Context, *mcp.CompleteRequest) (*mcp.CompleteResult, error) {
		runs.Add(1)
		return &mcp.CompleteResult{Completion: mcp.CompletionResultDetails{Values: []string{"INC-7", "INC-70"}, Total: 2}}, nil
	}}
}

func promptRef(name string) *mcp.CompleteReference {
	return &mcp.CompleteReference{Type: "ref/prompt", Name: name}
}
func resourceRef(uri string) *mcp.CompleteReference {
	return &mcp.CompleteReference{Type: "ref/resource", URI: uri}
}

// playCompletions plays completion/complete as the stranger (no
// incidents:read) and the reader over two sessions of one server.
func playCompletions(t *testing.T, f *resourceFixture, runs *atomic.Int64, strangerCS, readerCS *mcp.ClientSession) {
	t.Helper()
	ctx := context.Background()
	complete := func(cs *mcp.ClientSession, ref *mcp.CompleteReference, arg string) (*mcp.CompleteResult, error) {
		return cs.Complete(ctx, &mcp.CompleteParams{Ref: ref, Argument: mcp.CompleteParamsArgument{Name: arg, Value: "INC-"}})
	}

	for _, tc := range []struct {
		ref    *mcp.CompleteReference
		target string
	}{{promptRef("postmortem"), "postmortem"}, {resourceRef("incident://{id}"), "incident://{id}"}} {
		_, err := complete(strangerCS, tc.ref, "id")
		we := rpcError(t, err)
		assert.Equal(t, mcpkit.RefusedRPCCode, we.Code)
		assert.Contains(t, we.Message, "requires scope incidents:read, which your credentials do not grant")
		assert.JSONEq(t, `{"outcome":"denied_scope"}`, string(we.Data))
		assert.Zero(t, runs.Load(), "the completion handler never ran for a caller who may not see %s", tc.target)
		rec := f.last(t)
		assert.Equal(t, "completion/complete", rec.Operation)
		assert.Equal(t, tc.target, rec.Target)
		assert.Equal(t, "denied_scope", rec.Outcome)
		assert.Equal(t, "mallory", rec.Principal.Subject)
		assert.JSONEq(t, `{"id":"INC-"}`, string(rec.Arguments))
	}

	res, err := complete(readerCS, promptRef("postmortem"), "id")
	require.NoError(t, err)
	assert.Equal(t, []string{"INC-7", "INC-70"}, res.Completion.Values)
	rec := f.last(t)
	assert.Equal(t, "ok", rec.Outcome)
	assert.Equal(t, "completion/complete", rec.Operation)
	assert.Equal(t, "postmortem", rec.Target)
	_, err = complete(readerCS, resourceRef("incident://{id}"), "id")
	require.NoError(t, err)
	assert.Equal(t, int64(2), runs.Load())

	// An argument the prompt does not have: invalid input, no run.
	_, err = complete(readerCS, promptRef("postmortem"), "severity")
	assert.Equal(t, int64(jsonrpc.CodeInvalidParams), rpcError(t, err).Code)
	assert.Equal(t, "invalid_input", f.last(t).Outcome)

	// Unknown targets: refused, the client's string redacted.
	for _, ref := range []*mcp.CompleteReference{promptRef(plantedSecret), resourceRef("secret://" + plantedSecret + "/{id}")} {
		_, err = complete(readerCS, ref, "id")
		we := rpcError(t, err)
		assert.Equal(t, int64(jsonrpc.CodeInvalidParams), we.Code)
		rec := f.last(t)
		assert.Contains(t, []string{"unknown_prompt", "unknown_resource"}, rec.Outcome)
		assert.Equal(t, "completion/complete", rec.Operation)
		b, _ := json.Marshal(rec)
		assert.NotContains(t, string(b), plantedSecret)
	}
	assert.Equal(t, int64(2), runs.Load())
	assert.Zero(t, f.runs.Load(), "no prompt or resource handler ran")
}

// TestCompletionIsDecidedAsTheGetOrReadItNames: completion/complete of a
// prompt or a resource template meets the decision of its prompts/get or
// resources/read, in memory and over HTTP on 127.0.0.1, on both protocol
// generations.
func TestCompletionIsDecidedAsTheGetOrReadItNames(t *testing.T) {
	for _, version := range resourceProtocols {
		t.Run("memory "+version, func(t *testing.T) {
			var runs atomic.Int64
			f := newResourceFixture(t, mcpkit.WithServerOptions(completer(&runs)))
			hs := mcpkittest.NewHarness(t, f.srv, mcpkittest.WithIdentity(stranger), mcpkittest.WithProtocolVersion(version))
			hr := mcpkittest.NewHarness(t, f.srv, mcpkittest.WithIdentity(reader), mcpkittest.WithProtocolVersion(version))
			playCompletions(t, f, &runs, hs.Session, hr.Session)
		})
		t.Run("http "+version, func(t *testing.T) {
			const readerToken, strangerToken = "tok-reader-0123456789abcdef", "tok-stranger-0123456789abcdef"
			var runs atomic.Int64
			f := newResourceFixture(t, mcpkit.WithServerOptions(completer(&runs)))
			st, err := transport.ParseStaticTokens([]byte(`{"` + readerToken + `": {"sub": "alice", "scopes": ["incidents:read"]},` +
				`"` + strangerToken + `": {"sub": "mallory", "scopes": ["other:read"]}}`))
			require.NoError(t, err)
			h, err := transport.NewHandler(f.srv, transport.WithAuthenticator(st))
			require.NoError(t, err)
			ts := httptest.NewServer(h)
			t.Cleanup(ts.Close)
			connect := func(token string) *mcp.ClientSession {
				cs, err := mcp.NewClient(&mcp.Implementation{Name: "http-client", Version: "1"}, nil).Connect(context.Background(),
					&mcp.StreamableClientTransport{Endpoint: ts.URL + "/mcp", HTTPClient: &http.Client{Transport: bearer{token}}},
					&mcp.ClientSessionOptions{ProtocolVersion: version})
				require.NoError(t, err)
				t.Cleanup(func() { _ = cs.Close() })
				return cs
			}
			playCompletions(t, f, &runs, connect(strangerToken), connect(readerToken))
			assert.Equal(t, "static", f.last(t).Principal.Auth)
		})
	}
}

// TestCompletionWithoutHandlerIsMethodNotFound: a server that offers no
// completions answers every caller with method not found (the SDK's
// answer, as the capability is not declared), never an empty success:
// there is nothing to decide.
func TestCompletionWithoutHandlerIsMethodNotFound(t *testing.T) {
	f := newResourceFixture(t)
	for _, id := range []mcpkit.Identity{reader, stranger} {
		h := mcpkittest.NewHarness(t, f.srv, mcpkittest.WithIdentity(id))
		_, err := h.Session.Complete(context.Background(), &mcp.CompleteParams{Ref: promptRef("postmortem"), Argument: mcp.CompleteParamsArgument{Name: "id", Value: "I"}})
		assert.Equal(t, int64(jsonrpc.CodeMethodNotFound), rpcError(t, err).Code, id.Subject)
		assert.Nil(t, h.Session.InitializeResult().Capabilities.Completions)
	}
	assert.Zero(t, f.runs.Load())
}
