package transport_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/serve"
	"github.com/mcpkit-go/mcpkit/transport"
)

type incidentRef struct {
	ID string `json:"id" jsonschema:"description=Incident number"`
}

// namedServer serves a resource template, a prompt and a tool over HTTP on
// 127.0.0.1 with its refusals audited into records; ran counts handler runs.
func namedServer(t *testing.T, opts ...transport.Option) (url string, ran *int64Counter, records func() []*audit.Record) {
	t.Helper()
	return namedServerWith(t, nil, opts...)
}

// namedServerWith is namedServer built with the server options srvOpts.
func namedServerWith(t *testing.T, srvOpts []mcpkit.Option, opts ...transport.Option) (url string, ran *int64Counter, records func() []*audit.Record) {
	t.Helper()
	srv, err := mcpkit.NewServer(&mcp.Implementation{Name: "named", Version: "1.0.0"}, srvOpts...)
	require.NoError(t, err)
	ran = &int64Counter{}
	pub := mcpkit.Policy{Risk: mcpkit.ReadOnly, Public: true}
	require.NoError(t, mcpkit.AddResourceTemplate(srv, mcpkit.ResourceTemplate{URITemplate: "incident://{id}", Name: "incident",
		Description: "An incident.", Policy: pub}, func(_ context.Context, in incidentRef) ([]*mcp.ResourceContents, error) {
		ran.add()
		return []*mcp.ResourceContents{{URI: "incident://" + in.ID, Text: "x"}}, nil
	}))
	require.NoError(t, mcpkit.AddPrompt(srv, mcpkit.Prompt{Name: "postmortem", Description: "Write a postmortem.", Policy: pub},
		func(_ context.Context, in incidentRef) ([]*mcp.PromptMessage, error) {
			ran.add()
			return []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: in.ID}}}, nil
		}))
	require.NoError(t, mcpkit.AddTool(srv, mcpkit.Tool{Name: "get_echo", Description: "Echo text.", Policy: pub},
		func(_ context.Context, in echoIn) (echoIn, error) { ran.add(); return in, nil }))
	var mu sync.Mutex
	var recs []*audit.Record
	aud := must(audit.New(audit.SinkFunc(func(_ context.Context, r *audit.Record) error {
		mu.Lock()
		defer mu.Unlock()
		recs = append(recs, r)
		return nil
	})))
	h, err := transport.NewHandler(srv, append([]transport.Option{transport.WithAuthenticator(staticTokens(t)),
		transport.WithLogger(slog.New(slog.DiscardHandler)), serve.AuditRefusals(aud, srv.Implementation())}, opts...)...)
	require.NoError(t, err)
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts.URL, ran, func() []*audit.Record {
		mu.Lock()
		defer mu.Unlock()
		return append([]*audit.Record(nil), recs...)
	}
}

const namedMeta = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"raw","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}`

// TestMethodNameHeaderDisagreementIsOnRecord: a 2026-07-28 request whose
// Mcp-Method or Mcp-Name header disagrees with its body, lacks one, or
// whose params the name cannot be read from, is refused as the SDK refuses
// it (400, -32020) and leaves exactly one audit record (invalid_request)
// naming the method, with none of the client's values in the answer's
// message; no handler runs.
func TestMethodNameHeaderDisagreementIsOnRecord(t *testing.T) {
	url, ran, records := namedServer(t)
	cases := []struct {
		name, method, params string
		mcpMethod, mcpName   string
		target               string // the body's name on the record
	}{
		{"resource URI with a hidden zero-width space", "resources/read", `{"uri":"incident://INC-1001\u200b",` + namedMeta + `}`, "resources/read", "incident://INC-1001", "incident://INC-1001\u200b"},
		{"prompt name with a trailing space", "prompts/get", `{"name":"postmortem ","arguments":{"id":"1001"},` + namedMeta + `}`, "prompts/get", "postmortem", "postmortem "},
		{"resource without Mcp-Name", "resources/read", `{"uri":"incident://INC-1001",` + namedMeta + `}`, "resources/read", "", "incident://INC-1001"},
		{"prompt without Mcp-Name", "prompts/get", `{"name":"postmortem",` + namedMeta + `}`, "prompts/get", "", "postmortem"},
		{"prompt argument not a string", "prompts/get", `{"name":"postmortem","arguments":{"id":1001},` + namedMeta + `}`, "prompts/get", "postmortem", ""},
		{"resource uri not a string", "resources/read", `{"uri":["incident://INC-1001"],` + namedMeta + `}`, "resources/read", "incident://INC-1001", ""},
		{"tool name disagrees", "tools/call", `{"name":"get_echo","arguments":{"text":"hi"},` + namedMeta + `}`, "tools/call", "get_other", "get_echo"},
		{"Mcp-Method disagrees", "resources/read", `{"uri":"incident://INC-1001",` + namedMeta + `}`, "prompts/get", "incident://INC-1001", "incident://INC-1001"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(records())
			body := `{"jsonrpc":"2.0","id":7,"method":"` + c.method + `","params":` + c.params + `}`
			req, err := http.NewRequest(http.MethodPost, url+"/mcp", strings.NewReader(body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			req.Header.Set("Authorization", "Bearer "+aliceToken)
			req.Header.Set("Mcp-Protocol-Version", newRevision)
			req.Header.Set("Mcp-Method", c.mcpMethod)
			if c.mcpName != "" {
				req.Header.Set("Mcp-Name", c.mcpName)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			raw, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode, string(raw))
			var out struct {
				ID    int `json:"id"`
				Error struct {
					Code    int64  `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			require.NoError(t, json.Unmarshal(raw, &out), string(raw))
			assert.Equal(t, int64(mcp.CodeHeaderMismatch), out.Error.Code)
			assert.Equal(t, 7, out.ID)
			assert.NotContains(t, out.Error.Message, "INC-1001")
			assert.NotContains(t, out.Error.Message, "get_other")
			assert.Zero(t, ran.load(), "no handler may run")
			recs := records()
			require.Len(t, recs, before+1, "exactly one record per refusal")
			rec := recs[len(recs)-1]
			assert.Equal(t, audit.OutcomeInvalidRequest, rec.Outcome)
			assert.Equal(t, c.method, rec.Operation)
			assert.Equal(t, c.target, rec.Target, "the body's name, redacted")
			assert.Equal(t, "alice", rec.Principal.Subject)
			if c.mcpName != "" {
				assert.NotContains(t, rec.Error, c.mcpName, "the header's value stays off the record")
			}
		})
	}
}

// TestMethodNameHeadersAgreeingPass: the check refuses nothing the SDK
// accepts: agreeing headers reach the handlers.
func TestMethodNameHeadersAgreeingPass(t *testing.T) {
	url, ran, records := namedServer(t)
	for _, c := range []struct{ method, params, name string }{
		{"resources/read", `{"uri":"incident://INC-1001",` + namedMeta + `}`, "incident://INC-1001"},
		{"prompts/get", `{"name":"postmortem","arguments":{"id":"1001"},` + namedMeta + `}`, "postmortem"},
	} {
		body := `{"jsonrpc":"2.0","id":8,"method":"` + c.method + `","params":` + c.params + `}`
		req, err := http.NewRequest(http.MethodPost, url+"/mcp", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Authorization", "Bearer "+aliceToken)
		req.Header.Set("Mcp-Protocol-Version", newRevision)
		req.Header.Set("Mcp-Method", c.method)
		req.Header.Set("Mcp-Name", c.name)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		raw, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, string(raw))
		assert.NotContains(t, string(raw), `"error"`, string(raw))
	}
	assert.EqualValues(t, 2, ran.load())
	assert.Empty(t, records())
}
