package clientconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpkit-go/mcpkit/serve"
)

func writeClients(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

var testConfig = serve.Config{Name: "demo", Version: "1.2.3", Scopes: []string{"demo:read"}}

const (
	goodClaude = `{"mcpServers": {
  "demo-stdio": {"type": "stdio", "command": "go", "args": ["run", "github.com/mcpkit-go/mcpkit/examples/demo@v1.2.3", "-audit", "${HOME}/a.jsonl"]},
  "demo-http": {"type": "http", "url": "http://127.0.0.1:8080/mcp", "headers": {"Authorization": "Bearer ${DEMO_TOKEN}"}}}}`
	goodCursor = `{"mcpServers": {
  "demo-stdio": {"command": "go", "args": ["run", "github.com/mcpkit-go/mcpkit/examples/demo@v1.2.3"]},
  "demo-http": {"url": "http://127.0.0.1:8080/mcp", "headers": {"Authorization": "Bearer ${env:DEMO_TOKEN}"}}}}`
	goodCline = `{"mcpServers": {
  "demo-stdio": {"command": "go", "args": ["run", "github.com/mcpkit-go/mcpkit/examples/demo@v1.2.3", "-approver", "deny"], "disabled": false},
  "demo-http": {"type": "streamableHttp", "url": "http://127.0.0.1:8080/mcp", "headers": {"Authorization": "Bearer REPLACE_WITH_DEMO_TOKEN"}, "autoApprove": []}}}`
)

func TestCheckClientConfigs(t *testing.T) {
	good := map[string]string{ClaudeCode: goodClaude, Cursor: goodCursor, Cline: goodCline}
	if err := CheckClientConfigs(writeClients(t, good), testConfig); err != nil {
		t.Fatalf("good configs refused: %v", err)
	}
	for _, tc := range []struct {
		name, file, from, to, want string
	}{
		{"old pin", ClaudeCode, "demo@v1.2.3", "demo@v1.2.2", "want command go with args [run github.com/mcpkit-go/mcpkit/examples/demo@v1.2.3"},
		{"unpinned", Cursor, "demo@v1.2.3", "demo@latest", "want command go with args"},
		{"unknown flag", Cline, `"-approver", "deny"`, `"-approve", "deny"`, "flag provided but not defined: -approve"},
		{"bad flag value", ClaudeCode, `"-audit", "${HOME}/a.jsonl"`, `"-stateless=maybe"`, "invalid boolean value"},
		{"stray argument", ClaudeCode, `"-audit", "${HOME}/a.jsonl"`, `"serve"`, `unexpected arguments ["serve"]`},
		{"http on stdio entry", Cursor, `demo@v1.2.3"]`, `demo@v1.2.3", "-http", "127.0.0.1:1", "-no-auth"]`, "must not pass -http"},
		{"literal token", ClaudeCode, "${DEMO_TOKEN}", "dev-alice-0123456789abcdef", "want the token from the environment"},
		{"cursor syntax in claude", ClaudeCode, "${DEMO_TOKEN}", "${env:DEMO_TOKEN}", "want the token from the environment"},
		{"sse for cline", Cline, "streamableHttp", "sse", `type "sse", want "streamableHttp"`},
		{"typo field", Cursor, `"headers"`, `"header"`, `unknown field "header"`},
		{"remote url", ClaudeCode, "http://127.0.0.1:8080/mcp", "http://10.0.0.1:8080/mcp", "want http://127.0.0.1:PORT/mcp"},
		{"renamed server", Cline, "demo-http", "demo-remote", `unexpected server name "demo-remote"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{}
			for k, v := range good {
				files[k] = v
			}
			if !strings.Contains(files[tc.file], tc.from) {
				t.Fatalf("%q not in %s", tc.from, tc.file)
			}
			files[tc.file] = strings.Replace(files[tc.file], tc.from, tc.to, 1)
			err := CheckClientConfigs(writeClients(t, files), testConfig)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		if err := CheckClientConfigs(writeClients(t, map[string]string{ClaudeCode: goodClaude, Cursor: goodCursor}), testConfig); err == nil {
			t.Fatal("a missing Cline file was accepted")
		}
	})
	t.Run("unknown file", func(t *testing.T) {
		files := map[string]string{ClaudeCode: goodClaude, Cursor: goodCursor, Cline: goodCline, "vscode/mcp.json": `{}`}
		err := CheckClientConfigs(writeClients(t, files), testConfig)
		if err == nil || !strings.Contains(err.Error(), "vscode/mcp.json: not a client file") {
			t.Fatalf("got %v", err)
		}
	})
}
