package serve_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/internal/loopback/loopbacktest"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
	"github.com/mcpkit-go/mcpkit/serve"
)

// noEnv is an empty environment: no audit key, no approval keys.
func noEnv(string) string { return "" }

// HTTP on 127.0.0.1 with a real token: a call is served and audited; a
// request with a bad token is refused, never reaches a tool, and is on the
// record through the built-in refusal hook; a scope the token lacks is
// refused and audited under the caller; on cancellation the server stops
// cleanly and closes the audit file (its last line is the closing
// checkpoint and the chain verifies).
func TestHTTPServesAuditsRefusalsAndShutsDownCleanly(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "notes-audit.jsonl")
	var r ran
	addr := loopbacktest.FreeAddr(t)
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- serve.Run(ctx, notesConfig(&r), []string{"-http", addr, "-tokens", writeTokens(t, dir), "-audit", path, "-approver", "deny"},
			serve.IO{Stderr: logs, Getenv: noEnv})
	}()
	base := "http://" + addr
	waitHealthy(t, base, done)

	alice := connectHTTP(t, base, aliceToken)
	res, err := alice.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_note", Arguments: map[string]any{"id": "n1"}})
	require.NoError(t, err)
	require.False(t, res.IsError, mcpkittest.Text(res))
	assert.Contains(t, mcpkittest.Text(res), "hello n1")

	// A forged token: 401, the tool does not run.
	body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add_note","arguments":{"text":"x"}}}`
	req, _ := http.NewRequest(http.MethodPost, base+"/mcp", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := httpClient("dev-mallory-0123456789abcdef").Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	// bob may read only: add_note is refused and does not run.
	bob := connectHTTP(t, base, bobToken)
	res, err = bob.CallTool(context.Background(), &mcp.CallToolParams{Name: "add_note", Arguments: map[string]any{"text": "x"}})
	assert.True(t, err != nil || res.IsError, "bob's add_note was not refused")
	assert.Zero(t, r.get("add_note"), "a refused call ran")
	assert.Equal(t, 1, r.get("get_note"))

	require.NoError(t, alice.Close())
	require.NoError(t, bob.Close())
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err, "graceful shutdown")
	case <-time.After(15 * time.Second):
		t.Fatal("server did not stop")
	}

	recs := readAudit(t, path)
	require.NotEmpty(t, recs)
	assert.Equal(t, audit.KindCheckpoint, recs[len(recs)-1].Kind, "the file was not closed: no closing checkpoint")
	cs := calls(recs)
	_, ok := findRecord(cs, func(r audit.Record) bool {
		return r.Tool == "get_note" && r.Outcome == "ok" && r.Principal.Subject == "alice"
	})
	assert.True(t, ok, "alice's call is not on the record: %+v", cs)
	_, ok = findRecord(cs, func(r audit.Record) bool {
		return r.Outcome == audit.OutcomeUnauthenticated && r.Server.Name == "notes"
	})
	assert.True(t, ok, "the forged token's refusal is not on the record: %+v", cs)
	_, ok = findRecord(cs, func(r audit.Record) bool {
		return r.Tool == "add_note" && r.Outcome == "denied_scope" && r.Principal.Subject == "bob"
	})
	assert.True(t, ok, "bob's refused call is not on the record: %+v", cs)

	keys, err := audit.ReadKeyFile(path + ".key")
	require.NoError(t, err)
	vr, err := audit.Verify(keys, path)
	require.NoError(t, err)
	assert.Empty(t, vr.Problems)
	assert.NotContains(t, logs.String(), aliceToken)
}

// stdioServer runs cfg over in-process pipes and returns a go-sdk client
// connected to it and the channel Run's result arrives on.
func stdioServer(t *testing.T, cfg serve.Config, args ...string) (*mcp.ClientSession, <-chan error) {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := serve.Run(context.Background(), cfg, args, serve.IO{Stdin: inR, Stdout: outW, Stderr: io.Discard, Getenv: noEnv})
		_ = outW.Close()
		done <- err
	}()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil).
		Connect(context.Background(), &mcp.IOTransport{Reader: outR, Writer: inW}, nil)
	if err != nil {
		select {
		case rerr := <-done:
			t.Fatalf("server stopped: %v (client: %v)", rerr, err)
		case <-time.After(time.Second):
			t.Fatal(err)
		}
	}
	return cs, done
}

func waitDone(t *testing.T, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(15 * time.Second):
		t.Fatal("server did not stop at end of input")
	}
}

// stdio: the local user with the scopes -scopes grants; a tool outside them
// is hidden and refused by name; end of input stops the server and closes
// the audit file.
func TestStdioServesTheLocalUserWithItsScopes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.jsonl")
	var r ran
	cs, done := stdioServer(t, notesConfig(&r), "-audit", path, "-scopes", scopeRead)
	lr, err := cs.ListTools(context.Background(), nil)
	require.NoError(t, err)
	var names []string
	for _, tl := range lr.Tools {
		names = append(names, tl.Name)
	}
	assert.Equal(t, []string{"get_note"}, names)
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_note", Arguments: map[string]any{"id": "n7"}})
	require.NoError(t, err)
	require.False(t, res.IsError, mcpkittest.Text(res))
	res, err = cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "add_note", Arguments: map[string]any{"text": "x"}})
	assert.True(t, err != nil || res.IsError, "add_note outside -scopes was served")
	assert.Zero(t, r.get("add_note"))
	require.NoError(t, cs.Close())
	waitDone(t, done)

	recs := readAudit(t, path)
	assert.Equal(t, audit.KindCheckpoint, recs[len(recs)-1].Kind, "the file was not closed")
	u, err := user.Current()
	require.NoError(t, err)
	rec, ok := findRecord(calls(recs), func(r audit.Record) bool { return r.Tool == "get_note" && r.Outcome == "ok" })
	require.True(t, ok)
	assert.Equal(t, u.Username, rec.Principal.Subject)
	_, ok = findRecord(calls(recs), func(r audit.Record) bool { return r.Tool == "add_note" && r.Outcome == "denied_scope" })
	assert.True(t, ok, "the refused call is not on the record")
}

// A tools/call the stdio transport cannot decode never reaches the server;
// the built-in refusal hook puts it on the record.
func TestStdioUndecodableCallIsAudited(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.jsonl")
	var r ran
	in := strings.Join([]string{
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"sh","version":"1"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":123}}`,
	}, "\n") + "\n"
	var out syncBuffer
	err := serve.Run(context.Background(), notesConfig(&r), []string{"-audit", path},
		serve.IO{Stdin: strings.NewReader(in), Stdout: &out, Stderr: io.Discard, Getenv: noEnv})
	require.NoError(t, err)
	assert.Contains(t, out.String(), `"id":2`)
	rec, ok := findRecord(calls(readAudit(t, path)), func(r audit.Record) bool { return r.Outcome == audit.OutcomeInvalidRequest })
	require.True(t, ok, "the undecodable call is not on the record")
	assert.Equal(t, "notes", rec.Server.Name)
	assert.NotEmpty(t, rec.Principal.Subject)
}

// Every bad configuration is an error from New with a message saying what
// to do, before anything is opened: no audit file, no listener. -no-auth on
// anything but loopback is the attack case: an unauthenticated server on
// the network.
func TestBadConfigurationsFailBeforeServing(t *testing.T) {
	dir := t.TempDir()
	tokens := writeTokens(t, dir)
	var r ran
	noRule := notesConfig(&r)
	for _, tc := range []struct {
		name string
		cfg  serve.Config
		args []string
		env  map[string]string
		want string
	}{
		{"no-auth on all interfaces", notesConfig(&r), []string{"-http", "0.0.0.0:0", "-no-auth"}, nil, "-no-auth is refused on non-loopback"},
		{"no-auth on a LAN address", notesConfig(&r), []string{"-http", "10.1.2.3:8080", "-no-auth"}, nil, "-no-auth is refused on non-loopback"},
		{"no-auth on a host name", notesConfig(&r), []string{"-http", "mcp.example.com:8080", "-no-auth"}, nil, "-no-auth is refused on non-loopback"},
		{"no-auth on an empty host", notesConfig(&r), []string{"-http", ":8080", "-no-auth"}, nil, "-no-auth is refused on non-loopback"},
		{"no-auth with tokens", notesConfig(&r), []string{"-http", "127.0.0.1:0", "-no-auth", "-tokens", tokens}, nil, "cannot be combined"},
		{"http without auth", notesConfig(&r), []string{"-http", "127.0.0.1:0"}, nil, "never runs without authentication"},
		{"tokens without http", notesConfig(&r), []string{"-tokens", tokens}, nil, "need -http ADDR"},
		{"jwks without issuer", notesConfig(&r), []string{"-http", "127.0.0.1:0", "-jwks", "http://127.0.0.1:1/jwks"}, nil, "-jwks needs -issuer and -audience"},
		{"unknown approver", notesConfig(&r), []string{"-approver", "maybe"}, nil, `want elicit, console or deny`},
		{"console approver without address", notesConfig(&r), []string{"-approver", "console"}, nil, "needs -console ADDR"},
		{"console without approver rule", noRule, []string{"-console", "127.0.0.1:0"}, nil, "no approver rule"},
		{"unknown flag", notesConfig(&r), []string{"-htttp", "127.0.0.1:0"}, nil, "flag provided but not defined"},
		{"stray argument", notesConfig(&r), []string{"serve"}, nil, `unexpected arguments ["serve"]`},
		{"missing token file", notesConfig(&r), []string{"-http", "127.0.0.1:0", "-tokens", filepath.Join(dir, "nope.json")}, nil, "nope.json"},
		{"static tokens on the network", notesConfig(&r), []string{"-http", "0.0.0.0:0", "-tokens", tokens}, nil, "loopback"},
		{"malformed audit key", notesConfig(&r), nil, map[string]string{audit.EnvKey: "not a key"}, "MCPKIT_AUDIT_KEY"},
		{"malformed approval keys", notesConfig(&r), nil, map[string]string{"NOTES_APPROVAL_KEYS": "k1:short"}, "NOTES_APPROVAL_KEYS"},
		{"missing name", serve.Config{Version: "1", Tools: registerNotes(&r)}, nil, nil, "Config.Name"},
		{"missing version", serve.Config{Name: "notes", Tools: registerNotes(&r)}, nil, nil, "Config.Version is required"},
		{"missing tools", serve.Config{Name: "notes", Version: "1"}, nil, nil, "Config.Tools is required"},
		{"name unfit for a file", serve.Config{Name: "../x", Version: "1", Tools: registerNotes(&r)}, nil, nil, "Config.Name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "a.jsonl")
			getenv := func(k string) string { return tc.env[k] }
			s, err := serve.New(context.Background(), tc.cfg, append([]string{"-audit", path}, tc.args...), serve.IO{Stderr: io.Discard, Getenv: getenv})
			if s != nil {
				_ = s.Close(context.Background())
			}
			require.Error(t, err)
			assert.Nil(t, s)
			assert.Contains(t, err.Error(), tc.want)
			if !slices.Contains([]string{"malformed approval keys"}, tc.name) {
				_, statErr := os.Stat(path)
				assert.True(t, errors.Is(statErr, os.ErrNotExist), "the audit file was opened before the error")
			}
		})
	}
}

// A failure after the audit file is open (here, the tools fail to
// register) still closes it.
func TestFailedSetupClosesWhatItOpened(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.jsonl")
	cfg := serve.Config{Name: "notes", Version: "1", Tools: func(*mcpkit.Server) error { return errors.New("duplicate tool get_note") }}
	_, err := serve.New(context.Background(), cfg, []string{"-audit", path}, serve.IO{Stderr: io.Discard, Getenv: noEnv})
	require.ErrorContains(t, err, "registering tools: duplicate tool get_note")
	recs := readAudit(t, path)
	require.NotEmpty(t, recs)
	assert.Equal(t, audit.KindCheckpoint, recs[len(recs)-1].Kind, "the audit file was left open")
}

// A closed Server does not serve again: its audit file is closed.
func TestServeAfterCloseIsRefused(t *testing.T) {
	s, err := serve.New(context.Background(), notesConfig(&ran{}), []string{"-audit", filepath.Join(t.TempDir(), "a.jsonl")},
		serve.IO{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard, Getenv: noEnv})
	require.NoError(t, err)
	require.NoError(t, s.Close(context.Background()))
	require.ErrorContains(t, s.Serve(context.Background()), "Serve after Close")
	require.NoError(t, s.Close(context.Background()), "a second Close")
}
