package transport_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/transport"
)

const newRevision = "2026-07-28"

// connectAt opens a client session at a given protocol version.
func connectAt(t testing.TB, url, token, version string) *mcp.ClientSession {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "1.0.0"}, nil)
	cs, err := client.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: url + "/mcp", HTTPClient: bearerClient(token)},
		&mcp.ClientSessionOptions{ProtocolVersion: version})
	require.NoError(t, err)
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

// statelessCall is a 2026-07-28 tools/call body with its _meta.
func newRevisionCall(id int, tool, metaVersion string) string {
	return `{"jsonrpc":"2.0","id":` + strconv.Itoa(id) + `,"method":"tools/call","params":{"name":"` + tool + `","arguments":{"text":"x"},` +
		`"_meta":{"io.modelcontextprotocol/protocolVersion":"` + metaVersion + `","io.modelcontextprotocol/clientInfo":{"name":"raw","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}}}`
}

// rpcError reads the JSON-RPC error of a response (JSON or one SSE event).
func rpcError(t testing.TB, body string) (code int64, msg string) {
	t.Helper()
	if i := strings.Index(body, "data: "); i >= 0 {
		body = strings.TrimSpace(strings.SplitN(body[i+len("data: "):], "\n", 2)[0])
	}
	var resp struct {
		Error *struct {
			Code    int64  `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &resp), body)
	require.NotNil(t, resp.Error, "want a JSON-RPC error, got %s", body)
	return resp.Error.Code, resp.Error.Message
}

// TestDefaultHandlerServesBothRevisions: without WithStateless, one
// endpoint serves a 2025-11-25 client with a session and a 2026-07-28
// client without one; neither is downgraded, and both reach the tool as
// the same authenticated identity.
func TestDefaultHandlerServesBothRevisions(t *testing.T) {
	ts, calls := serveHTTP(t, transport.WithAuthenticator(staticTokens(t)))
	for _, tc := range []struct {
		version string
		session bool
	}{{"2025-11-25", true}, {newRevision, false}} {
		t.Run(tc.version, func(t *testing.T) {
			cs := connectAt(t, ts.URL, aliceToken, tc.version)
			assert.Equal(t, tc.version, cs.InitializeResult().ProtocolVersion, "negotiated, not downgraded")
			assert.Equal(t, tc.session, cs.ID() != "", "session id %q", cs.ID())
			res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_note", Arguments: map[string]any{"text": "hi"}})
			require.NoError(t, err)
			m := echoResult(t, res)
			assert.Equal(t, "alice", m["subject"])
			assert.Equal(t, "http", m["via"])
		})
	}
	assert.EqualValues(t, 2, calls.load())
}

// TestStatelessRequestNamingASessionIsRefused: a 2026-07-28 request that
// carries the Mcp-Session-Id of a 2025-11-25 session (a version switch in
// mid-session, or a stateless client leaning on a session) is refused with
// 400 before anything runs, whoever owns the session.
func TestStatelessRequestNamingASessionIsRefused(t *testing.T) {
	var rejections []transport.Rejection
	ts, calls := serveHTTP(t, transport.WithAuthenticator(staticTokens(t)),
		transport.WithRejectHook(func(_ *http.Request, rej transport.Rejection) { rejections = append(rejections, rej) }))
	cs := connectAt(t, ts.URL, aliceToken, "2025-11-25")
	require.NotEmpty(t, cs.ID())
	for _, tc := range []struct{ name, header, meta string }{
		{"header and meta", newRevision, newRevision},
		{"meta only", "2025-11-25", newRevision},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := post(t, ts.URL+"/mcp", aliceToken, newRevisionCall(7, "get_note", tc.meta), map[string]string{
				"Mcp-Session-Id": cs.ID(), "Mcp-Protocol-Version": tc.header, "Mcp-Method": "tools/call", "Mcp-Name": "get_note"})
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
			code, msg := rpcError(t, readBody(t, resp))
			assert.EqualValues(t, -32600, code)
			assert.Contains(t, msg, "has no sessions")
		})
	}
	assert.Zero(t, calls.load(), "the tool never ran")
	require.Len(t, rejections, 2, "each refusal reaches the reject hook")
	assert.Equal(t, "alice", rejections[0].Identity.Subject)
	// The session itself is untouched and still serves its own version.
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_note", Arguments: map[string]any{"text": "hi"}})
	require.NoError(t, err)
	assert.Equal(t, "alice", echoResult(t, res)["subject"])
}

// TestStatelessHeaderBodyDisagreementIsRefused: on the default (stateful)
// handler, a 2026-07-28 request whose headers and body disagree (Mcp-Method
// vs the body's method, Mcp-Name vs the tool, MCP-Protocol-Version vs
// _meta) is refused with -32020 before the tool runs; one claiming the new
// revision only in _meta gets -32020, not a stateful "unsupported version".
func TestStatelessHeaderBodyDisagreementIsRefused(t *testing.T) {
	ts, calls := serveHTTP(t, transport.WithAuthenticator(staticTokens(t)))
	for _, tc := range []struct {
		name    string
		headers map[string]string
		meta    string
	}{
		{"method", map[string]string{"Mcp-Protocol-Version": newRevision, "Mcp-Method": "tools/list", "Mcp-Name": "get_note"}, newRevision},
		{"missing method", map[string]string{"Mcp-Protocol-Version": newRevision, "Mcp-Name": "get_note"}, newRevision},
		{"name", map[string]string{"Mcp-Protocol-Version": newRevision, "Mcp-Method": "tools/call", "Mcp-Name": "get_echo"}, newRevision},
		{"version header older than _meta", map[string]string{"Mcp-Protocol-Version": "2025-11-25", "Mcp-Method": "tools/call", "Mcp-Name": "get_note"}, newRevision},
		{"version header newer than _meta", map[string]string{"Mcp-Protocol-Version": newRevision, "Mcp-Method": "tools/call", "Mcp-Name": "get_note"}, "2025-11-25"},
		{"no version header", map[string]string{"Mcp-Method": "tools/call", "Mcp-Name": "get_note"}, newRevision},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := post(t, ts.URL+"/mcp", aliceToken, newRevisionCall(3, "get_note", tc.meta), tc.headers)
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
			code, msg := rpcError(t, readBody(t, resp))
			assert.EqualValues(t, mcp.CodeHeaderMismatch, code, msg)
		})
	}
	assert.Zero(t, calls.load(), "no disagreeing request reached the tool")
}

// TestStatelessRequestsAuthenticateAndCheckScopesFirst: the stateless route
// comes after authentication and the per-tool scope check, not instead of
// them.
func TestStatelessRequestsAuthenticateAndCheckScopesFirst(t *testing.T) {
	ts, calls := serveHTTP(t, transport.WithAuthenticator(staticTokens(t)))
	headers := map[string]string{"Mcp-Protocol-Version": newRevision, "Mcp-Method": "tools/call", "Mcp-Name": "delete_note"}
	resp := post(t, ts.URL+"/mcp", "", newRevisionCall(1, "delete_note", newRevision), headers)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	resp = post(t, ts.URL+"/mcp", bobToken, newRevisionCall(2, "delete_note", newRevision), headers)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("WWW-Authenticate"), "insufficient_scope")
	assert.Zero(t, calls.load())
	resp = post(t, ts.URL+"/mcp", adminToken, newRevisionCall(3, "delete_note", newRevision), headers)
	assert.Equal(t, http.StatusOK, resp.StatusCode, readBody(t, resp))
	assert.EqualValues(t, 1, calls.load())
}

// TestToolsListIsPrivateAndDiffersByCaller: two callers with different
// scopes get different lists, each marked private for both revisions: a
// shared cache that honours cacheScope keeps neither, so nothing of the
// admin's list can reach the other caller.
func TestToolsListIsPrivateAndDiffersByCaller(t *testing.T) {
	ts, _ := serveHTTP(t, transport.WithAuthenticator(staticTokens(t)))
	for _, version := range []string{"2025-11-25", newRevision} {
		t.Run(version, func(t *testing.T) {
			lists := map[string][]string{}
			for _, token := range []string{adminToken, bobToken} {
				lr, err := connectAt(t, ts.URL, token, version).ListTools(context.Background(), nil)
				require.NoError(t, err)
				assert.Equal(t, "private", lr.CacheScope, "a list the gates filter per caller")
				for _, tool := range lr.Tools {
					lists[token] = append(lists[token], tool.Name)
				}
			}
			assert.Contains(t, lists[adminToken], "delete_note")
			assert.NotContains(t, lists[bobToken], "delete_note", "nothing of the admin's list reaches bob")
		})
	}
}
