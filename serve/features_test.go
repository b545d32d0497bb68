package serve_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/internal/loopback/loopbacktest"
	"github.com/mcpkit-go/mcpkit/serve"
)

// -flags: a tool whose flag is off is hidden and refused by name, without
// running; a flag file that cannot be read refuses every tool (fail
// closed) rather than serving them ungated.
func TestFlagFileGatesTools(t *testing.T) {
	dir := t.TempDir()
	flagFile := filepath.Join(dir, "flags.json")
	require.NoError(t, os.WriteFile(flagFile, []byte(`{"flags": {"tool.add_note": {"state": "DISABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off"}}}`), 0o600))
	for _, tc := range []struct {
		name, file string
		visible    []string
	}{
		{"flag off", flagFile, []string{"get_note"}},
		{"missing file", filepath.Join(dir, "nope.json"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r ran
			cs, done := stdioServer(t, notesConfig(&r), "-audit", filepath.Join(t.TempDir(), "a.jsonl"), "-flags", tc.file)
			lr, err := cs.ListTools(context.Background(), nil)
			require.NoError(t, err)
			var names []string
			for _, tl := range lr.Tools {
				names = append(names, tl.Name)
			}
			assert.Equal(t, tc.visible, names)
			res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "add_note", Arguments: map[string]any{"text": "x"}})
			assert.True(t, err != nil || res.IsError, "a flagged-off tool was served")
			assert.Zero(t, r.get("add_note"), "a flagged-off tool ran")
			require.NoError(t, cs.Close())
			waitDone(t, done)
		})
	}
}

// With -http, the approval console signs reviewers in with the same tokens
// as MCP callers and admits only those meeting Config.Approvers: no token
// is 401, a signed-in caller without the approver scope 403.
func TestConsoleUsesTheHTTPCredentialsAndTheApproverRule(t *testing.T) {
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens.json")
	require.NoError(t, os.WriteFile(tokens, []byte(`{
"`+aliceToken+`": {"sub": "alice", "scopes": ["notes:read", "notes:write"]},
"dev-carol-0123456789abcdef": {"sub": "carol", "scopes": ["notes:read", "notes:write", "notes:approve"]}}`), 0o600))
	cfg := notesConfig(&ran{})
	cfg.Approvers = approval.ReviewerRule{Scopes: []string{"notes:approve"}}
	console := loopbacktest.FreeAddr(t)
	s, err := serve.New(context.Background(), cfg, []string{"-http", loopbacktest.FreeAddr(t), "-tokens", tokens, "-audit", filepath.Join(dir, "a.jsonl"),
		"-approver", "console", "-console", console}, serve.IO{Stderr: io.Discard, Getenv: noEnv})
	require.NoError(t, err)
	defer s.Close(context.Background())
	for _, tc := range []struct {
		token string
		want  int
	}{{"", http.StatusUnauthorized}, {"dev-mallory-0123456789abcdef", http.StatusUnauthorized}, {aliceToken, http.StatusForbidden}, {"dev-carol-0123456789abcdef", http.StatusOK}} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+console+"/api/pending", nil)
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, tc.want, resp.StatusCode, "token %q", tc.token)
	}
	require.NoError(t, s.Close(context.Background()))
	_, err = http.Get("http://" + console + "/api/pending")
	assert.Error(t, err, "the console still listens after Close")
}
