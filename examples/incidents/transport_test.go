package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/examples/internal/servertest"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

const (
	aliceDevToken = "dev-alice-0123456789abcdef"
	bobDevToken   = "dev-bob-0123456789abcdef"
)

// TestStdioPipedRequestsAreAllAnsweredBeforeExit is the shell use:
// printf '<initialize>\n<tools/call>\n' | incidents. Both get answers, stdout
// carries nothing but JSON-RPC, and the process exits 0 at end of input.
func TestStdioPipedRequestsAreAllAnsweredBeforeExit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the example binary")
	}
	bin := buildExample(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-audit", filepath.Join(t.TempDir(), "audit.jsonl"))
	cmd.Stdin = strings.NewReader(
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"sh","version":"1"}}}` + "\n" +
			`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get_incident","arguments":{"id":"INC-1001"}}}` + "\n")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, stderr.String())
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	require.Len(t, lines, 2, "stdout: %s\nstderr: %s", out, stderr.String())
	for i, line := range lines {
		var msg struct {
			ID     int             `json:"id"`
			Result json.RawMessage `json:"result"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &msg), "stdout carries only protocol")
		assert.Equal(t, i+1, msg.ID)
		assert.NotEmpty(t, msg.Result)
	}
	assert.Contains(t, lines[1], "INC-1001")
}

// TestStdioExitsCleanlyOnSIGTERM drives the binary with the go-sdk client
// over mcp.CommandTransport, then stops it with SIGTERM.
func TestStdioExitsCleanlyOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the example binary")
	}
	bin := buildExample(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-audit", filepath.Join(t.TempDir(), "audit.jsonl"))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1"}, nil).Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	require.NoError(t, err)
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_incident", Arguments: map[string]any{"id": "INC-1001"}})
	require.NoError(t, err)
	require.False(t, res.IsError, mcpkittest.Text(res))
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	_ = cs.Close()
	assert.Equal(t, 0, cmd.ProcessState.ExitCode(), stderr.String())
	assert.Contains(t, stderr.String(), "stopped")
}

func TestHTTPWithStaticTokens(t *testing.T) {
	for _, mode := range [][]string{nil, {"-stateless"}} {
		t.Run(fmt.Sprint("flags", mode), func(t *testing.T) {
			base := startHTTP(t, append([]string{"-tokens", "testdata/tokens.json"}, mode...)...)
			alice := connectWithToken(t, base, aliceDevToken)
			assert.ElementsMatch(t, []string{"list_incidents", "get_incident", "search_incidents", "resolve_incident"}, toolNames(t, alice))
			res, err := alice.CallTool(context.Background(), &mcp.CallToolParams{Name: "resolve_incident", Arguments: map[string]any{"id": "INC-1005", "resolution": "restarted the pod"}})
			require.NoError(t, err)
			require.False(t, res.IsError, mcpkittest.Text(res))
			assert.Contains(t, mcpkittest.Text(res), "alice", "the token's subject reached the handler")

			bob := connectWithToken(t, base, bobDevToken)
			assert.ElementsMatch(t, []string{"list_incidents", "get_incident", "search_incidents"}, toolNames(t, bob))
			_, err = bob.CallTool(context.Background(), &mcp.CallToolParams{Name: "resolve_incident", Arguments: map[string]any{"id": "INC-1002", "resolution": "nope"}})
			require.Error(t, err)
			assert.Contains(t, err.Error(), "requires scope incidents:write")

			resp, err := http.Post(base+"/mcp", "application/json", strings.NewReader(`{}`))
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			assert.Equal(t, `Bearer resource_metadata="`+base+`/.well-known/oauth-protected-resource/mcp"`, resp.Header.Get("WWW-Authenticate"))
		})
	}
}

func TestHTTPWithJWT(t *testing.T) {
	raw, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	priv, err := jwk.Import(raw)
	require.NoError(t, err)
	require.NoError(t, priv.Set(jwk.KeyIDKey, "test-ec"))
	pub, err := priv.PublicKey()
	require.NoError(t, err)
	set := jwk.NewSet()
	require.NoError(t, set.AddKey(pub))
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _ = json.NewEncoder(w).Encode(set) }))
	defer jwks.Close()

	const issuer, audience = "https://issuer.test", "https://incidents.test/mcp"
	base := startHTTP(t, "-jwks", jwks.URL, "-issuer", issuer, "-audience", audience)
	tok, err := jwt.NewBuilder().Issuer(issuer).Audience([]string{audience}).Subject("erin").
		Expiration(time.Now().Add(time.Hour)).Claim("scope", "incidents:read incidents:write").Build()
	require.NoError(t, err)
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.ES256(), priv))
	require.NoError(t, err)

	cs := connectWithToken(t, base, string(signed))
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "resolve_incident", Arguments: map[string]any{"id": "INC-1004", "resolution": "rotated the certificate"}})
	require.NoError(t, err)
	require.False(t, res.IsError, mcpkittest.Text(res))
	assert.Contains(t, mcpkittest.Text(res), "erin")

	resp, err := http.Get(base + "/.well-known/oauth-protected-resource/mcp")
	require.NoError(t, err)
	defer resp.Body.Close()
	var doc map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&doc))
	assert.Equal(t, audience, doc["resource"])
	assert.Equal(t, []any{issuer}, doc["authorization_servers"])
}

func TestTransportFlagsRefuseUnsafeCombinations(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-http", "127.0.0.1:0"}, "never runs without authentication"},
		{[]string{"-tokens", "testdata/tokens.json"}, "need -http"},
		{[]string{"-http", "127.0.0.1:0", "-jwks", "http://127.0.0.1:1/jwks"}, "-jwks needs -issuer and -audience"},
		{[]string{"-http", "0.0.0.0:0", "-tokens", "testdata/tokens.json"}, "refused on non-loopback"},
		{[]string{"-no-auth"}, "need -http"},
		{[]string{"-http", "0.0.0.0:0", "-no-auth"}, "-no-auth is refused on non-loopback"},
		{[]string{"-http", "127.0.0.1:0", "-no-auth", "-tokens", "testdata/tokens.json"}, "cannot be combined"},
	} {
		err := run(context.Background(), tc.args, strings.NewReader(""), io.Discard, io.Discard)
		assert.ErrorContains(t, err, tc.want, tc.args)
	}
}

// startHTTP runs the example in-process over HTTP on a free loopback port
// and waits until it is healthy; the audit file goes to a temporary
// directory unless args name one.
func startHTTP(t *testing.T, args ...string) string {
	t.Helper()
	if !slices.Contains(args, "-audit") {
		args = append(args, "-audit", filepath.Join(t.TempDir(), "audit.jsonl"))
	}
	return servertest.StartHTTP(t, func(ctx context.Context, args []string, stderr io.Writer) error {
		return run(ctx, args, strings.NewReader(""), io.Discard, stderr)
	}, args...)
}

func connectWithToken(t *testing.T, base, token string) *mcp.ClientSession {
	return servertest.Connect(t, base, token)
}

func toolNames(t *testing.T, cs *mcp.ClientSession) []string { return servertest.ToolNames(t, cs) }
