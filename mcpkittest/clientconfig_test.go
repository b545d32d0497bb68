package mcpkittest_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpkit-go/mcpkit/mcpkittest"
	"github.com/mcpkit-go/mcpkit/serve"
)

func writeClientFiles(t *testing.T, files map[mcpkittest.ClientFile]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(string(name)))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const demoPkg = "example.com/demo/cmd/demo"

var demoConfig = serve.Config{Name: "demo", Version: "1.2.3", Scopes: []string{"demo:read"}}

const (
	goodClaude = `{"mcpServers": {
  "demo-stdio": {"type": "stdio", "command": "go", "args": ["run", "example.com/demo/cmd/demo@v1.2.3", "-audit", "${HOME}/a.jsonl"]},
  "demo-http": {"type": "http", "url": "http://127.0.0.1:8080/mcp", "headers": {"Authorization": "Bearer ${DEMO_TOKEN}"}}}}`
	goodCursor = `{"mcpServers": {
  "demo-stdio": {"command": "go", "args": ["run", "example.com/demo/cmd/demo@v1.2.3"]},
  "demo-http": {"url": "http://127.0.0.1:8080/mcp", "headers": {"Authorization": "Bearer ${env:DEMO_TOKEN}"}}}}`
	goodCline = `{"mcpServers": {
  "demo-stdio": {"command": "go", "args": ["run", "example.com/demo/cmd/demo@v1.2.3", "-approver", "deny"], "disabled": false},
  "demo-http": {"type": "streamableHttp", "url": "http://127.0.0.1:8080/mcp", "headers": {"Authorization": "Bearer REPLACE_WITH_DEMO_TOKEN"}, "autoApprove": []}}}`
)

func goodClientFiles() map[mcpkittest.ClientFile]string {
	return map[mcpkittest.ClientFile]string{
		mcpkittest.ClaudeCodeConfig: goodClaude,
		mcpkittest.CursorConfig:     goodCursor,
		mcpkittest.ClineConfig:      goodCline,
	}
}

func TestCheckClientConfigs(t *testing.T) {
	if err := mcpkittest.CheckClientConfigs(writeClientFiles(t, goodClientFiles()), demoPkg, demoConfig); err != nil {
		t.Fatalf("good configs refused: %v", err)
	}
	for _, tc := range []struct {
		name     string
		file     mcpkittest.ClientFile
		from, to string
		want     string
	}{
		{"old pin", mcpkittest.ClaudeCodeConfig, "demo@v1.2.3", "demo@v1.2.2", "want command go with args [run example.com/demo/cmd/demo@v1.2.3"},
		{"unpinned", mcpkittest.CursorConfig, "demo@v1.2.3", "demo@latest", "want command go with args"},
		{"another package", mcpkittest.ClineConfig, "example.com/demo/cmd/demo@", "example.com/other@", "want command go with args"},
		{"unknown flag", mcpkittest.ClineConfig, `"-approver", "deny"`, `"-approve", "deny"`, "flag provided but not defined: -approve"},
		{"bad flag value", mcpkittest.ClaudeCodeConfig, `"-audit", "${HOME}/a.jsonl"`, `"-stateless=maybe"`, "invalid boolean value"},
		{"stray argument", mcpkittest.ClaudeCodeConfig, `"-audit", "${HOME}/a.jsonl"`, `"serve"`, `unexpected arguments ["serve"]`},
		{"http on stdio entry", mcpkittest.CursorConfig, `demo@v1.2.3"]`, `demo@v1.2.3", "-http", "127.0.0.1:1", "-no-auth"]`, "must not pass -http"},
		{"literal token", mcpkittest.ClaudeCodeConfig, "${DEMO_TOKEN}", "dev-alice-0123456789abcdef", "want the token from the environment"},
		{"cursor syntax in claude", mcpkittest.ClaudeCodeConfig, "${DEMO_TOKEN}", "${env:DEMO_TOKEN}", "want the token from the environment"},
		{"sse for cline", mcpkittest.ClineConfig, "streamableHttp", "sse", `type "sse", want "streamableHttp"`},
		{"typo field", mcpkittest.CursorConfig, `"headers"`, `"header"`, `unknown field "header"`},
		{"remote url", mcpkittest.ClaudeCodeConfig, "http://127.0.0.1:8080/mcp", "http://10.0.0.1:8080/mcp", "want http://127.0.0.1:PORT/mcp"},
		{"renamed server", mcpkittest.ClineConfig, "demo-http", "demo-remote", `unexpected server name "demo-remote"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := goodClientFiles()
			if !strings.Contains(files[tc.file], tc.from) {
				t.Fatalf("%q not in %s", tc.from, tc.file)
			}
			files[tc.file] = strings.Replace(files[tc.file], tc.from, tc.to, 1)
			err := mcpkittest.CheckClientConfigs(writeClientFiles(t, files), demoPkg, demoConfig)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), string(tc.file)) {
				t.Fatalf("got %v, want an error naming %s and containing %q", err, tc.file, tc.want)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		files := goodClientFiles()
		delete(files, mcpkittest.ClineConfig)
		err := mcpkittest.CheckClientConfigs(writeClientFiles(t, files), demoPkg, demoConfig)
		if err == nil || !strings.Contains(err.Error(), string(mcpkittest.ClineConfig)) {
			t.Fatalf("a missing Cline file: got %v", err)
		}
	})
	t.Run("unknown file", func(t *testing.T) {
		files := goodClientFiles()
		files["vscode/mcp.json"] = `{}`
		err := mcpkittest.CheckClientConfigs(writeClientFiles(t, files), demoPkg, demoConfig)
		if err == nil || !strings.Contains(err.Error(), "vscode/mcp.json: not a client file") {
			t.Fatalf("got %v", err)
		}
	})
}

func TestCheckClientConfigsOptions(t *testing.T) {
	t.Run("some clients only", func(t *testing.T) {
		dir := writeClientFiles(t, map[mcpkittest.ClientFile]string{mcpkittest.ClaudeCodeConfig: goodClaude})
		if err := mcpkittest.CheckClientConfigs(dir, demoPkg, demoConfig); err == nil {
			t.Fatal("without WithClientFiles, a directory with one client file was accepted")
		}
		if err := mcpkittest.CheckClientConfigs(dir, demoPkg, demoConfig, mcpkittest.WithClientFiles(mcpkittest.ClaudeCodeConfig)); err != nil {
			t.Fatal(err)
		}
		// A file present but not expected still fails: it would go unchecked.
		err := mcpkittest.CheckClientConfigs(writeClientFiles(t, goodClientFiles()), demoPkg, demoConfig, mcpkittest.WithClientFiles(mcpkittest.ClaudeCodeConfig))
		if err == nil || !strings.Contains(err.Error(), string(mcpkittest.CursorConfig)+": not a client file this check expects") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("deployed url", func(t *testing.T) {
		files := goodClientFiles()
		for f, body := range files {
			files[f] = strings.ReplaceAll(body, "http://127.0.0.1:8080/mcp", "https://mcp.example.com/mcp")
		}
		dir := writeClientFiles(t, files)
		if err := mcpkittest.CheckClientConfigs(dir, demoPkg, demoConfig); err == nil {
			t.Fatal("a remote URL was accepted without WithHTTPURL")
		}
		if err := mcpkittest.CheckClientConfigs(dir, demoPkg, demoConfig, mcpkittest.WithHTTPURL("https://mcp.example.com/mcp")); err != nil {
			t.Fatal(err)
		}
		err := mcpkittest.CheckClientConfigs(dir, demoPkg, demoConfig, mcpkittest.WithHTTPURL("https://staging.example.com/mcp"))
		if err == nil || !strings.Contains(err.Error(), "want https://staging.example.com/mcp") {
			t.Fatalf("got %v", err)
		}
	})
	dir := writeClientFiles(t, goodClientFiles())
	for _, tc := range []struct {
		name string
		pkg  string
		cfg  serve.Config
		opts []mcpkittest.ClientConfigOption
		want string
	}{
		{"no files", demoPkg, demoConfig, []mcpkittest.ClientConfigOption{mcpkittest.WithClientFiles()}, "WithClientFiles: no file"},
		{"unknown file", demoPkg, demoConfig, []mcpkittest.ClientConfigOption{mcpkittest.WithClientFiles("vscode/mcp.json")}, `unknown client file "vscode/mcp.json"`},
		{"file twice", demoPkg, demoConfig, []mcpkittest.ClientConfigOption{mcpkittest.WithClientFiles(mcpkittest.CursorConfig, mcpkittest.CursorConfig)}, "named twice"},
		{"plain http remote", demoPkg, demoConfig, []mcpkittest.ClientConfigOption{mcpkittest.WithHTTPURL("http://mcp.example.com/mcp")}, "plain http only on a loopback address"},
		{"relative url", demoPkg, demoConfig, []mcpkittest.ClientConfigOption{mcpkittest.WithHTTPURL("/mcp")}, "want an absolute http or https URL"},
		{"empty package", "", demoConfig, nil, "want the import path"},
		{"versioned package", demoPkg + "@v1.2.3", demoConfig, nil, "without a version"},
		{"no version", demoPkg, serve.Config{Name: "demo"}, nil, "cfg.Name and cfg.Version are required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := mcpkittest.CheckClientConfigs(dir, tc.pkg, tc.cfg, tc.opts...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
