package serve_test

import (
	"context"
	"io"
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

// A server that mounts transport.NewHandler itself audits refusals with one
// option: a request whose token lacks the tool's scope is refused before
// the tool runs and recorded with the caller and the tool, field for field.
func TestAuditRefusalsOnAHandMountedHandler(t *testing.T) {
	var mu sync.Mutex
	var recs []audit.Record
	sink := audit.SinkFunc(func(_ context.Context, r *audit.Record) error {
		mu.Lock()
		defer mu.Unlock()
		recs = append(recs, *r)
		return nil
	})
	auditor := must(audit.New(sink))
	var r ran
	srv, err := mcpkit.NewServer(&mcp.Implementation{Name: "notes", Version: "1.0.0"}, mcpkit.WithMiddleware(auditor.Middleware()))
	require.NoError(t, err)
	require.NoError(t, registerNotes(&r)(srv))
	tokens, err := transport.ParseStaticTokens([]byte(`{"` + bobToken + `": {"sub": "bob", "scopes": ["notes:read"]}}`))
	require.NoError(t, err)
	h, err := transport.NewHandler(srv, transport.WithAuthenticator(tokens), transport.WithStateless(), transport.WithJSONResponse(),
		serve.AuditRefusals(auditor, srv.Implementation()))
	require.NoError(t, err)
	ts := httptest.NewServer(h)
	defer ts.Close()

	body := `{"jsonrpc":"2.0","id":"req-7","method":"tools/call","params":{"name":"add_note","arguments":{"text":"x"}}}`
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/mcp", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Protocol-Version", "2025-06-18")
	resp, err := httpClient(bobToken).Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Zero(t, r.get("add_note"))

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, recs, 1)
	got := recs[0]
	assert.Equal(t, "denied_scope", got.Outcome)
	assert.Equal(t, "add_note", got.Tool)
	assert.Equal(t, "bob", got.Principal.Subject)
	assert.Equal(t, "notes", got.Server.Name)
	assert.NotEmpty(t, got.RequestID)
}
