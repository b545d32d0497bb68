package consumer

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"
)

// consumerREADME is where the second server's files come from: the
// repository's own README.
const consumerREADME = "../../README.md"

// TestConsumerServer builds the README's second server in a module of its
// own, as a team would from the README alone, and runs it: over stdio
// (the default) and over HTTP on 127.0.0.1 with a static token, it lists
// its tools and calls every read-only one. It also asserts what must not
// happen: an unauthenticated HTTP client gets nothing, a token without the
// tool's scope neither sees nor calls it, and a call is on the audit
// record. The README's clients_test.go runs in the same module against
// the example's client files copied as the README says.
func TestConsumerServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module with the go command and runs it; skipped with -short")
	}
	root, err := CheckoutRoot(".")
	require.NoError(t, err)
	readme, err := filepath.Rel(root, filepath.Join(must(os.Getwd()), consumerREADME))
	require.NoError(t, err)
	blocks, err := MarkdownGoBlocks(root, filepath.ToSlash(readme))
	require.NoError(t, err)
	files, err := ConsumerFiles(blocks)
	require.NoError(t, err)
	require.NotEmpty(t, files, "%s has no ```go block marked <!-- consumer: FILE -->", readme)

	ctx := context.Background() // each go command is bounded by GoTimeout
	dir := t.TempDir()
	pkg := consumerModulePath(files)
	m, err := NewModule(ctx, filepath.Join(dir, "src"), root, pkg)
	require.NoError(t, err)
	var names []string
	for _, f := range files {
		require.NoError(t, m.Write(f.Arg, f.Text))
		names = append(names, f.Arg+" ("+f.Name()+")")
	}
	t.Logf("consumer module: %s", strings.Join(names, ", "))
	if _, err := m.Go(ctx, "mod", "tidy"); err != nil {
		t.Fatalf("the README's second server does not resolve as a module of its own: %v", err)
	}
	bin := filepath.Join(dir, "consumer")
	if _, err := m.Go(ctx, "build", "-o", bin, "."); err != nil {
		t.Fatalf("the README's second server (%s) does not build: %v", strings.Join(names, ", "), err)
	}

	hasTests := false
	for _, f := range files {
		hasTests = hasTests || strings.HasSuffix(f.Arg, "_test.go")
	}
	if hasTests {
		t.Run("clients_test.go", func(t *testing.T) {
			runCopiedClientsTest(ctx, t, m, root, pkg, files)
		})
	}

	// Running it is bounded as a whole.
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	t.Run("stdio", func(t *testing.T) {
		run := t.TempDir()
		called := consumerStdio(ctx, t, bin, run)
		requireAudited(t, auditRecords(t, run), "", called)
	})
	help := helpText(ctx, t, bin)
	if !strings.Contains(help, "-http") || !strings.Contains(help, "-tokens") {
		t.Logf("the server has no -http/-tokens flags; HTTP not tested")
		return
	}
	t.Run("http", func(t *testing.T) {
		consumerHTTP(ctx, t, bin, t.TempDir(), defaultScopes(help))
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// consumerStdio runs the binary over stdio with the go-sdk's command
// transport, the way an MCP client starts a local server, and returns the
// tools it called.
func consumerStdio(ctx context.Context, t *testing.T, bin, dir string) []string {
	stderr := &syncBuffer{}
	cmd := exec.Command(bin)
	cmd.Dir = dir
	cmd.Stderr = stderr
	client := mcp.NewClient(&mcp.Implementation{Name: "consumer-test", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd, TerminateDuration: 5 * time.Second}, nil)
	require.NoError(t, err, "stderr:\n%s", stderr)
	closeOnce := sync.OnceValue(cs.Close)
	defer closeOnce() // stops the server if the test fails early
	called, _ := callReadOnlyTools(ctx, t, cs, stderr)
	require.NoError(t, closeOnce())
	require.True(t, cmd.ProcessState != nil && cmd.ProcessState.Success(),
		"the server did not exit cleanly when stdin closed (%v); stderr:\n%s", cmd.ProcessState, stderr)
	return called
}

// callReadOnlyTools lists the server's tools and calls every read-only one
// with arguments built from its input schema; it fails unless at least one
// was called and answered without error. It returns the tools called and
// their arguments.
func callReadOnlyTools(ctx context.Context, t *testing.T, cs *mcp.ClientSession, stderr fmt.Stringer) ([]string, map[string]map[string]any) {
	t.Helper()
	list, err := cs.ListTools(ctx, nil)
	require.NoError(t, err, "stderr:\n%s", stderr)
	var called []string
	argsOf := map[string]map[string]any{}
	for _, tool := range list.Tools {
		if tool.Annotations == nil || !tool.Annotations.ReadOnlyHint {
			continue
		}
		args := argsFor(tool.InputSchema)
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool.Name, Arguments: args})
		require.NoError(t, err, "tools/call %s; stderr:\n%s", tool.Name, stderr)
		require.False(t, res.IsError, "tools/call %s %v answered an error: %s\n(give each required input field an example= so this test can build valid arguments)", tool.Name, args, text(res))
		require.True(t, res.StructuredContent != nil || len(res.Content) > 0, "tools/call %s returned nothing", tool.Name)
		t.Logf("%s(%v) -> %s", tool.Name, args, text(res))
		called = append(called, tool.Name)
		argsOf[tool.Name] = args
	}
	require.NotEmpty(t, called, "tools/list has no read-only tool to call: %d tools", len(list.Tools))
	return called, argsOf
}

func text(res *mcp.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			parts = append(parts, tc.Text)
		}
	}
	return strings.Join(parts, " ")
}

// argsFor builds arguments for the required properties of a JSON Schema
// from their examples, defaults and enums, or a value of their type.
func argsFor(schema any) map[string]any {
	s, _ := schema.(map[string]any)
	props, _ := s["properties"].(map[string]any)
	required, _ := s["required"].([]any)
	args := map[string]any{}
	for _, r := range required {
		name, _ := r.(string)
		p, _ := props[name].(map[string]any)
		args[name] = valueFor(p)
	}
	return args
}

func valueFor(p map[string]any) any {
	if ex, ok := p["examples"].([]any); ok && len(ex) > 0 {
		return ex[0]
	}
	if d, ok := p["default"]; ok {
		return d
	}
	if e, ok := p["enum"].([]any); ok && len(e) > 0 {
		return e[0]
	}
	switch p["type"] {
	case "integer", "number":
		if m, ok := p["minimum"]; ok {
			return m
		}
		return 1
	case "boolean":
		return true
	case "array":
		return []any{}
	case "object":
		return argsFor(p)
	}
	return "x"
}

// auditRecord is the part of an audit record the test reads.
type auditRecord struct {
	Tool      string `json:"tool"`
	Outcome   string `json:"outcome"`
	Principal struct {
		Subject string `json:"subject"`
	} `json:"principal"`
}

// auditRecords reads the tool-call records of the server's audit file in
// dir (the default <name>-audit.jsonl).
func auditRecords(t *testing.T, dir string) []auditRecord {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*-audit.jsonl"))
	require.NoError(t, err)
	require.Len(t, paths, 1, "want one audit file in the server's directory")
	data, err := os.ReadFile(paths[0])
	require.NoError(t, err)
	var recs []auditRecord
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var rec auditRecord
		require.NoError(t, json.Unmarshal([]byte(line), &rec), "audit line %q", line)
		if rec.Tool != "" {
			recs = append(recs, rec)
		}
	}
	return recs
}

// requireAudited checks that each called tool has a record with outcome
// ok for subject (any subject if empty).
func requireAudited(t *testing.T, recs []auditRecord, subject string, tools []string) {
	t.Helper()
	for _, tool := range tools {
		found := false
		for _, r := range recs {
			found = found || (r.Tool == tool && r.Outcome == "ok" && (subject == "" || r.Principal.Subject == subject))
		}
		require.True(t, found, "no audit record with outcome ok for %s by %q in %+v", tool, subject, recs)
	}
}

// helpText is the server's -help output.
func helpText(ctx context.Context, t *testing.T, bin string) string {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, bin, "-help").CombinedOutput()
	return string(out)
}

var scopesDefault = regexp.MustCompile(`(?m)^\s+-scopes\b.*\n(?:.*\n)*?.*\(default "([^"]*)"\)`)

// defaultScopes is the -scopes flag's default: every scope the server's
// policies name.
func defaultScopes(help string) []string {
	m := scopesDefault.FindStringSubmatch(help)
	if m == nil {
		return nil
	}
	return strings.Split(m[1], ",")
}

// consumerHTTP runs the binary with -http 127.0.0.1:0 and static tokens:
// one with every scope the server names, one with none.
func consumerHTTP(ctx context.Context, t *testing.T, bin, dir string, scopes []string) {
	require.NotEmpty(t, scopes, "could not read the -scopes default from -help")
	const full, none = "consumer-test-token-with-scopes", "consumer-test-token-without-scopes"
	tokens, err := json.Marshal(map[string]any{
		full: map[string]any{"sub": "alice", "scopes": scopes},
		none: map[string]any{"sub": "mallory", "scopes": []string{}},
	})
	require.NoError(t, err)
	tokenFile := filepath.Join(dir, "tokens.json")
	require.NoError(t, os.WriteFile(tokenFile, tokens, 0o600))

	cmd := exec.Command(bin, "-http", "127.0.0.1:0", "-tokens", tokenFile)
	cmd.Dir = dir
	stderr := &syncBuffer{}
	pipe, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	urls := make(chan string, 1)
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			stderr.Write([]byte(sc.Text() + "\n"))
			if m := regexp.MustCompile(`url=(http://127\.0\.0\.1:[0-9]+/mcp)`).FindStringSubmatch(sc.Text()); m != nil {
				select {
				case urls <- m[1]:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, pipe)
	}()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { <-copied; done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("the server did not stop cleanly on SIGTERM: %v; stderr:\n%s", err, stderr)
			}
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("the server did not stop within 20s of SIGTERM; stderr:\n%s", stderr)
		}
	}
	defer stop()

	var url string
	select {
	case url = <-urls:
	case <-time.After(30 * time.Second):
		t.Fatalf("the server did not say where it listens within 30s; stderr:\n%s", stderr)
	}
	connect := func(token string) (*mcp.ClientSession, error) {
		hc := &http.Client{Timeout: 30 * time.Second}
		if token != "" {
			hc.Transport = bearer{token: token, next: http.DefaultTransport}
		}
		client := mcp.NewClient(&mcp.Implementation{Name: "consumer-test", Version: "1"}, nil)
		return client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: hc, MaxRetries: -1}, nil)
	}

	// No token: refused before any MCP exchange.
	if cs, err := connect(""); err == nil {
		_ = cs.Close()
		t.Fatal("an HTTP client without a token connected")
	}

	cs, err := connect(full)
	require.NoError(t, err, "stderr:\n%s", stderr)
	called, argsOf := callReadOnlyTools(ctx, t, cs, stderr)
	require.NoError(t, cs.Close())

	// A token without the tools' scopes: they are neither listed nor run.
	cs, err = connect(none)
	require.NoError(t, err, "stderr:\n%s", stderr)
	list, err := cs.ListTools(ctx, nil)
	require.NoError(t, err)
	for _, tool := range list.Tools {
		require.NotContains(t, called, tool.Name, "a caller without scopes sees %s", tool.Name)
	}
	for _, name := range called {
		// The arguments that worked for alice: only the scope is missing.
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: argsOf[name]})
		refusal := ""
		if err != nil {
			refusal = err.Error()
		} else {
			require.True(t, res.IsError, "a caller without scopes called %s: %s", name, text(res))
			refusal = text(res)
		}
		require.Contains(t, refusal, "scope", "the refusal of %s to a caller without scopes does not say why", name)
	}
	require.NoError(t, cs.Close())
	stop()

	recs := auditRecords(t, dir)
	requireAudited(t, recs, "alice", called)
	refused := 0
	for _, r := range recs {
		if r.Principal.Subject == "mallory" {
			require.NotEqual(t, "ok", r.Outcome, "a call without scopes ran: %+v", r)
			refused++
		}
	}
	require.Positive(t, refused, "the refused calls without scopes are not on the audit record: %+v", recs)
}

// bearer adds a bearer token to every request.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// syncBuffer collects a process's stderr for failure messages.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
