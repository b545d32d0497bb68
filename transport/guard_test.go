package transport_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/transport"
)

// guarded is a test server whose refusals go through a real audit.Auditor
// (as the examples wire it) and whose handler reads of the request body are
// counted.
type guarded struct {
	url       string
	calls     *int64Counter
	bodyBytes atomic.Int64
	mu        sync.Mutex
	records   []*audit.Record
	rejected  []transport.Rejection
}

func serveGuarded(t *testing.T, opts ...transport.Option) *guarded {
	t.Helper()
	srv, calls := newTestServer(t)
	g := &guarded{calls: calls}
	aud := must(audit.New(audit.SinkFunc(func(_ context.Context, r *audit.Record) error {
		g.mu.Lock()
		defer g.mu.Unlock()
		g.records = append(g.records, r)
		return nil
	})))
	opts = append([]transport.Option{transport.WithAuthenticator(staticTokens(t)), transport.WithResource(testAudience),
		transport.WithRejectHook(func(r *http.Request, rej transport.Rejection) {
			g.mu.Lock()
			g.rejected = append(g.rejected, rej)
			g.mu.Unlock()
			_ = aud.Refused(r.Context(), audit.Refusal{Server: srv.Implementation(), Status: rej.Status, Reason: rej.Reason,
				Tool: rej.Tool, Identity: rej.Identity, Scope: len(rej.Missing) > 0})
		})}, opts...)
	h, err := transport.NewHandler(srv, opts...)
	require.NoError(t, err)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			r.Body = &countingBody{ReadCloser: r.Body, n: &g.bodyBytes}
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	g.url = ts.URL
	return g
}

func (g *guarded) lastRecord(t *testing.T) *audit.Record {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	require.NotEmpty(t, g.records, "the refusal must be on the record")
	return g.records[len(g.records)-1]
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// tinyCalls is a batch of n minimal tools/call messages of tool, the shape
// of the finding's 4 MiB body.
func tinyCalls(n int, tool string) string {
	args := ""
	if tool != "x" {
		args = `,"arguments":{"text":"x"}`
	}
	var b strings.Builder
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":%q%s}}`, i, tool, args)
	}
	b.WriteByte(']')
	return b.String()
}

// Finding 2: a caller without a valid token gets 401 before the server
// reads a byte of its body, however large.
func TestUnauthenticatedBodyIsNeverRead(t *testing.T) {
	g := serveGuarded(t)
	body := tinyCalls(52_000, "x") // ~4 MiB
	require.Less(t, len(body), 4<<20)
	for _, token := range []string{"", "nope-nope-nope-nope"} {
		req, err := http.NewRequest(http.MethodPost, g.url+"/mcp", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Mcp-Protocol-Version", "2025-03-26")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			// The 401 goes out with Connection: close before the body is
			// read; a client still writing megabytes may see the
			// connection closed under its write instead of the answer.
			assert.True(t, errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET), "unexpected error: %v", err)
			continue
		}
		_ = resp.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	}
	assert.Zero(t, g.bodyBytes.Load(), "an unauthenticated body must not be read")
	assert.Zero(t, g.calls.load())
}

// Finding 2: the body limit applies to the bytes the client sent. A body
// that fits must not be refused because the library's own request-id
// stamping made it longer.
func TestStampingNeverPushesABodyOverTheLimit(t *testing.T) {
	const limit = 32 << 10
	body := tinyCalls(1, "get_echo")
	for n := 2; len(tinyCalls(n, "get_echo")) <= limit; n++ {
		body = tinyCalls(n, "get_echo")
	}
	g := serveGuarded(t, transport.WithMaxBodyBytes(limit), transport.WithStateless(), transport.WithJSONResponse())
	resp := post(t, g.url+"/mcp", aliceToken, body, map[string]string{"Mcp-Protocol-Version": "2025-03-26"})
	got := readBody(t, resp)
	require.Equal(t, http.StatusOK, resp.StatusCode, got)
	var answers []map[string]any
	require.NoError(t, json.Unmarshal([]byte(got), &answers))
	assert.Len(t, answers, strings.Count(body, `"tools/call"`))
	assert.EqualValues(t, len(answers), g.calls.load())

	// One byte over is still refused, on the client's bytes.
	resp = post(t, g.url+"/mcp", aliceToken, body+strings.Repeat(" ", limit+1-len(body)), map[string]string{"Mcp-Protocol-Version": "2025-03-26"})
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
}

// statelessCall posts one raw tools/call body to a stateless JSON server.
func statelessCall(t *testing.T, g *guarded, token, body string, headers map[string]string) (*http.Response, string) {
	t.Helper()
	h := map[string]string{"Mcp-Protocol-Version": "2025-06-18"}
	for k, v := range headers {
		h[k] = v
	}
	resp := post(t, g.url+"/mcp", token, body, h)
	return resp, readBody(t, resp)
}

// Finding 7: the step-up 403 is decided on the body as the SDK decodes it,
// whatever the spelling. Each body below calls delete_note as far as the
// SDK is concerned; alice lacks notes:admin.
func TestStepUpCannotBeSkippedBySpelling(t *testing.T) {
	g := serveGuarded(t, transport.WithStateless(), transport.WithJSONResponse())
	for name, body := range map[string]string{
		"escaped method":               `{"jsonrpc":"2.0","id":5,"method":"tools\/call","params":{"name":"delete_note","arguments":{"text":"x"}}}`,
		"unicode-escaped method":       `{"jsonrpc":"2.0","id":5,"method":"tools\u002fcall","params":{"name":"delete_note","arguments":{"text":"x"}}}`,
		"name and Name":                `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"delete_note","Name":"get_echo","arguments":{"text":"x"}}}`,
		"Name and name":                `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"Name":"get_echo","name":"delete_note","arguments":{"text":"x"}}}`,
		"duplicate name, last wins":    `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"get_echo","name":"delete_note","arguments":{"text":"x"}}}`,
		"unicode-escaped tool name":    `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"delete\u005fnote","arguments":{"text":"x"}}}`,
		"mixed batch":                  `[{"jsonrpc":"2.0","id":4,"method":"ping"},{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"delete_note","arguments":{"text":"x"}}}]`,
		"trailing bytes after message": `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"delete_note","arguments":{"text":"x"}}} {"x":1}`,
	} {
		t.Run(name, func(t *testing.T) {
			headers := map[string]string{}
			if strings.HasPrefix(body, "[") {
				headers["Mcp-Protocol-Version"] = "2025-03-26"
			}
			resp, got := statelessCall(t, g, aliceToken, body, headers)
			assert.Equal(t, http.StatusForbidden, resp.StatusCode, got)
			assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="insufficient_scope", scope="notes:admin"`)
			assert.Contains(t, got, `"id":5`, "the refusal answers the call's id")
		})
	}
	// A header naming another tool decides nothing: the body does.
	resp, got := statelessCall(t, g, aliceToken,
		`{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"delete_note","arguments":{"text":"x"}}}`,
		map[string]string{"Mcp-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": "get_echo"})
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, got)
	assert.Equal(t, string(mcpkit.OutcomeDeniedScope), g.lastRecord(t).Outcome)
	// Headers naming the guarded tool over a body calling another: the SDK
	// refuses the mismatch; nothing runs either way.
	resp, got = statelessCall(t, g, aliceToken,
		`{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"get_echo","arguments":{"text":"x"}}}`,
		map[string]string{"Mcp-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": "delete_note"})
	assert.NotEqual(t, http.StatusOK, resp.StatusCode, got)
	assert.Zero(t, g.calls.load(), "no tool ran")
}

// Finding 7: a client cannot write the request id the audit record and
// trace carry, by any spelling: the library's _meta keys it sends are
// dropped and the real id stamped.
func TestClientCannotPlantTheRequestID(t *testing.T) {
	g := serveGuarded(t, transport.WithStateless(), transport.WithJSONResponse())
	for name, body := range map[string]string{
		"plain":           `{"jsonrpc":"2.0","id":77,"method":"tools/call","params":{"_meta":{"io.mcpkit/request-id":"forged"},"name":"get_echo","arguments":{"text":"x"}}}`,
		"escaped method":  `{"jsonrpc":"2.0","id":77,"method":"tools\/call","params":{"_meta":{"io.mcpkit/request-id":"forged"},"name":"get_echo","arguments":{"text":"x"}}}`,
		"escaped key":     `{"jsonrpc":"2.0","id":77,"method":"tools/call","params":{"_meta":{"io.mcpkit\/request-id":"forged"},"name":"get_echo","arguments":{"text":"x"}}}`,
		"duplicate _meta": `{"jsonrpc":"2.0","id":77,"method":"tools/call","params":{"_meta":{"io.mcpkit/request-id":"forged"},"name":"get_echo","arguments":{"text":"x"},"_meta":{"progressToken":"p"}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			resp, got := statelessCall(t, g, aliceToken, body, nil)
			require.Equal(t, http.StatusOK, resp.StatusCode, got)
			assert.NotContains(t, got, "forged")
			assert.Contains(t, got, `\"request_id\":\"77\"`)
		})
	}
}

// Finding 9: a tools/call the SDK cannot decode gets a plain answer (no Go
// type names, no internal keys) and an audit record; nothing runs.
func TestUndecodableToolsCallIsAnsweredPlainlyAndAudited(t *testing.T) {
	g := serveGuarded(t, transport.WithStateless(), transport.WithJSONResponse())
	for name, body := range map[string]string{
		"numeric name":   `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":123,"arguments":{}}}`,
		"params array":   `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":["delete_note"]}`,
		"params null":    `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":null}`,
		"no params":      `{"jsonrpc":"2.0","id":9,"method":"tools/call"}`,
		"_meta a string": `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"_meta":"io.mcpkit/request-id","name":"get_echo"}}`,
	} {
		t.Run(name, func(t *testing.T) {
			resp, got := statelessCall(t, g, aliceToken, body, nil)
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode, got)
			var msg struct {
				ID    any `json:"id"`
				Error struct {
					Code    int64  `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			require.NoError(t, json.Unmarshal([]byte(got), &msg), got)
			assert.EqualValues(t, 9, msg.ID)
			assert.EqualValues(t, -32602, msg.Error.Code)
			assert.Contains(t, msg.Error.Message, `string "name"`)
			for _, leak := range []string{"io.mcpkit", "mcp.", "Go ", "struct", "unmarshal", "float64", "[]interface"} {
				assert.NotContains(t, got, leak)
			}
			rec := g.lastRecord(t)
			assert.Equal(t, audit.OutcomeInvalidRequest, rec.Outcome)
			assert.Equal(t, "alice", rec.Principal.Subject)
		})
	}
	assert.Zero(t, g.calls.load())
}

// Nesting deeper than the SDK allows is refused by the transport's decode,
// as the SDK would refuse it; nesting within the bound is served.
func TestDeepNestingIsRefusedLikeTheSDK(t *testing.T) {
	g := serveGuarded(t, transport.WithStateless(), transport.WithJSONResponse())
	nested := func(depth int) string {
		return `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get_echo","arguments":{"text":"x","deep":` +
			strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}}}`
	}
	resp, got := statelessCall(t, g, aliceToken, nested(1000), nil) // 1003 levels with the envelope
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, got)
	assert.Equal(t, audit.OutcomeInvalidRequest, g.lastRecord(t).Outcome)
	assert.Zero(t, g.calls.load())
	resp, got = statelessCall(t, g, aliceToken, nested(990), nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode, got)
}

// Finding 9 on stdio: the same plain answer, and the reject hook.
func TestStdioUndecodableToolsCallIsAnsweredPlainlyAndReported(t *testing.T) {
	srv, calls := newTestServer(t)
	var out bytes.Buffer
	var rejected []transport.Rejection
	bad := `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":123}}`
	forged := `{"jsonrpc":"2.0","id":3,"method":"tools\/call","params":{"_meta":{"io.mcpkit/request-id":"forged"},"name":"get_echo","arguments":{"text":"x"}}}`
	err := transport.ServeStdio(context.Background(), srv,
		transport.WithStdio(strings.NewReader(initLine+"\n"+bad+"\n"+forged+"\n"), &out),
		transport.WithIdentity(mcpkit.Identity{Subject: "alice", AuthMethod: "local"}),
		transport.WithStdioRejectHook(func(_ context.Context, rej transport.Rejection) { rejected = append(rejected, rej) }))
	require.NoError(t, err)
	got := responses(t, out.String())
	errObj, _ := json.Marshal(got["2"]["error"])
	assert.Contains(t, string(errObj), `-32602`)
	assert.Contains(t, string(errObj), `string \"name\"`)
	assert.NotContains(t, string(errObj), "CallToolParamsRaw")
	require.Len(t, rejected, 1)
	assert.Equal(t, http.StatusBadRequest, rejected[0].Status)
	assert.Equal(t, "alice", rejected[0].Identity.Subject)
	res, _ := json.Marshal(got["3"]["result"])
	assert.Contains(t, string(res), `\"request_id\":\"3\"`)
	assert.NotContains(t, string(res), "forged")
	assert.EqualValues(t, 1, calls.load())
}
