package transport_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/transport"
)

const (
	initLine = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"sh","version":"1"}}}`
	callLine = `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get_note","arguments":{"text":"hi"}}}`
)

func responses(t *testing.T, out string) map[string]map[string]any {
	t.Helper()
	got := map[string]map[string]any{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), "stdout must carry only JSON-RPC: %q", line)
		id, _ := json.Marshal(m["id"])
		got[string(id)] = m
	}
	return got
}

func TestStdioAnswersEveryRequestReadBeforeEOF(t *testing.T) {
	srv, calls := newTestServer(t)
	var out bytes.Buffer
	in := strings.NewReader(initLine + "\n" + callLine + "\n")
	err := transport.ServeStdio(context.Background(), srv,
		transport.WithStdio(in, &out),
		transport.WithIdentity(mcpkit.Identity{Subject: "alice", Scopes: []string{"notes:read"}, AuthMethod: "local"}))
	require.NoError(t, err)
	got := responses(t, out.String())
	require.Contains(t, got, "1")
	require.Contains(t, got, "2", "the tools/call read before EOF must be answered")
	res, _ := json.Marshal(got["2"]["result"])
	assert.Contains(t, string(res), `\"subject\":\"alice\"`)
	assert.Contains(t, string(res), `\"via\":\"stdio\"`)
	assert.Equal(t, int64(1), calls.load())
}

func TestStdioMalformedLinesGetErrorsAndServingContinues(t *testing.T) {
	srv, _ := newTestServer(t)
	var out bytes.Buffer
	in := strings.NewReader(initLine + "\nnot json\n[" + callLine + "]\n" + strings.Repeat("x", 300) + "\n" + callLine)
	err := transport.ServeStdio(context.Background(), srv, transport.WithStdio(in, &out), transport.WithMaxLineBytes(256),
		transport.WithLocalScopes("notes:read"))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 5, out.String())
	assert.Contains(t, out.String(), `"code":-32700`)
	assert.Contains(t, out.String(), "batches are not supported")
	assert.Contains(t, out.String(), "maximum line length")
	assert.Contains(t, responses(t, out.String()), "2")
}

func TestStdioStopsOnCancel(t *testing.T) {
	srv, _ := newTestServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := ioPipe()
	defer pw.Close()
	done := make(chan error, 1)
	go func() { done <- transport.ServeStdio(ctx, srv, transport.WithStdio(pr, &bytes.Buffer{})) }()
	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("ServeStdio did not return after cancel")
	}
}
