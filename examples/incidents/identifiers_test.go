package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/examples/internal/servertest"
)

// clientToken is a credential shape a client put into its own identifiers.
const clientToken = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"

// rawPost sends one JSON-RPC body to base/mcp with token and session id (if
// any) and returns the status, the session id answered and the body.
func rawPost(t *testing.T, base, token, sid, body string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/mcp", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	if sid != "" {
		req.Header.Set("Mcp-Session-Id", sid)
		req.Header.Set("Mcp-Protocol-Version", "2025-06-18")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Mcp-Session-Id"), string(b)
}

// The attack: a read-only caller announced a 3 MB client name starting with
// a GitHub token; every call of the session wrote a 3 MB record with the
// token in clear. Now initialize is refused with invalid params, and
// nothing of the name reaches the audit file.
func TestOversizedClientInfoIsRefusedAtInitialize(t *testing.T) {
	auditFile := filepath.Join(t.TempDir(), "audit.jsonl")
	base := startHTTP(t, "-tokens", "testdata/tokens.json", "-audit", auditFile)
	name := clientToken + " " + strings.Repeat("N", 3_000_000)
	_, err := mcp.NewClient(&mcp.Implementation{Name: name, Version: "1"}, nil).Connect(context.Background(),
		&mcp.StreamableClientTransport{Endpoint: base + "/mcp", HTTPClient: servertest.TokenClient(bobDevToken)}, nil)
	require.Error(t, err, "initialize with a 3 MB client name must be refused")
	assert.Contains(t, err.Error(), "clientInfo.name")
	assert.Contains(t, err.Error(), "at most 256")

	// A normal session still works, and the file holds nothing of the name.
	cs := connectWithToken(t, base, bobDevToken)
	_, err = cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_incident", Arguments: map[string]any{"id": "INC-1001"}})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(servertest.ReadAudit(t, auditFile)) >= 1 }, 5*time.Second, 20*time.Millisecond)
	raw, err := os.ReadFile(auditFile)
	require.NoError(t, err)
	assert.NotContains(t, string(raw), clientToken)
	assert.NotContains(t, string(raw), strings.Repeat("N", 300))
}

// Identifiers under the protocol bounds still carry what the client chose:
// a credential in the client name or the JSON-RPC id is masked in the
// record, and name plus version together are cut to a bounded length with
// a digest.
func TestClientIdentifiersInRecordsAreRedactedAndBounded(t *testing.T) {
	auditFile := filepath.Join(t.TempDir(), "audit.jsonl")
	base := startHTTP(t, "-tokens", "testdata/tokens.json", "-audit", auditFile)
	name := clientToken + " " + strings.Repeat("N", 200)
	cs, err := mcp.NewClient(&mcp.Implementation{Name: name, Version: strings.Repeat("V", 250)}, nil).Connect(context.Background(),
		&mcp.StreamableClientTransport{Endpoint: base + "/mcp", HTTPClient: servertest.TokenClient(bobDevToken)}, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cs.Close() })
	_, err = cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_incident", Arguments: map[string]any{"id": "INC-1001"}})
	require.NoError(t, err)

	// The JSON-RPC id is the client's too.
	status, sid, body := rawPost(t, base, bobDevToken, "",
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`)
	require.Equal(t, http.StatusOK, status, body)
	require.NotEmpty(t, sid)
	status, _, body = rawPost(t, base, bobDevToken, sid, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	require.Equal(t, http.StatusAccepted, status, body)
	status, _, body = rawPost(t, base, bobDevToken, sid,
		`{"jsonrpc":"2.0","id":"`+clientToken+`","method":"tools/call","params":{"name":"get_incident","arguments":{"id":"INC-1001"}}}`)
	require.Equal(t, http.StatusOK, status, body)

	var records []audit.Record
	require.Eventually(t, func() bool {
		records = servertest.ReadAudit(t, auditFile)
		return len(records) >= 2
	}, 5*time.Second, 20*time.Millisecond)
	require.Equal(t, "bob", records[0].Principal.Subject)
	assert.NotContains(t, records[0].Principal.Client, clientToken)
	assert.LessOrEqual(t, len(records[0].Principal.Client), 256, records[0].Principal.Client)
	assert.Regexp(t, `…\[truncated: \d+ bytes, sha256 [0-9a-f]{64}\]$`, records[0].Principal.Client)
	require.NotEmpty(t, records[1].RequestID)
	assert.NotContains(t, records[1].RequestID, clientToken)
	raw, err := os.ReadFile(auditFile)
	require.NoError(t, err)
	assert.NotContains(t, string(raw), clientToken)
}

// The attack: a 1 MB JSON-RPC id became a 1 MB request_id in the record.
// Now the transport refuses an id over 128 bytes before the server sees
// it, with a plain error, on the record without the id.
func TestLongJSONRPCIDIsRefusedByTheHTTPTransport(t *testing.T) {
	auditFile := filepath.Join(t.TempDir(), "audit.jsonl")
	base := startHTTP(t, "-tokens", "testdata/tokens.json", "-audit", auditFile)
	status, sid, body := rawPost(t, base, bobDevToken, "",
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`)
	require.Equal(t, http.StatusOK, status, body)
	longID := clientToken + strings.Repeat("I", 1<<20)
	status, _, body = rawPost(t, base, bobDevToken, sid,
		`{"jsonrpc":"2.0","id":"`+longID+`","method":"tools/call","params":{"name":"get_incident","arguments":{"id":"INC-1001"}}}`)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body, "at most 128")
	assert.Less(t, len(body), 512, "the id is not echoed back")

	var records []audit.Record
	require.Eventually(t, func() bool {
		records = servertest.ReadAudit(t, auditFile)
		return len(records) >= 1
	}, 5*time.Second, 20*time.Millisecond)
	assert.Equal(t, "invalid_request", records[0].Outcome)
	assert.Contains(t, records[0].Error, "JSON-RPC id too long")
	raw, err := os.ReadFile(auditFile)
	require.NoError(t, err)
	assert.Less(t, len(raw), 8<<10, "no record carries the id")
	assert.NotContains(t, string(raw), clientToken)
}

// The attack: undecodable bodies put the client's bytes (a password in the
// tool name, a DB_PASSWORD line) into the "mcp request refused" log line,
// and every 401 wrote its own line. Now the log names the decode error's
// kind and position only, and unauthenticated refusals are logged once per
// interval with a count.
func TestRefusalLogCarriesNoClientBytesAndIsAggregated(t *testing.T) {
	var logged servertest.SyncBuffer
	base := servertest.StartHTTP(t, func(ctx context.Context, args []string, stderr io.Writer) error {
		return run(ctx, args, strings.NewReader(""), io.Discard, io.MultiWriter(stderr, &logged))
	}, "-tokens", "testdata/tokens.json", "-audit", filepath.Join(t.TempDir(), "audit.jsonl"))
	status, sid, body := rawPost(t, base, bobDevToken, "",
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`)
	require.Equal(t, http.StatusOK, status, body)
	status, _, body = rawPost(t, base, bobDevToken, sid,
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":{"password":"hunter2hunter2"}}}`)
	assert.Equal(t, http.StatusBadRequest, status, body)
	status, _, body = rawPost(t, base, bobDevToken, sid, "DB_PASSWORD=correcthorsebatterystaple\n")
	assert.Equal(t, http.StatusBadRequest, status, body)
	for range 50 {
		status, _, _ = rawPost(t, base, "not-a-token-we-issued", "", `{"jsonrpc":"2.0","id":1,"method":"ping"}`)
		require.Equal(t, http.StatusUnauthorized, status)
	}
	require.Eventually(t, func() bool { return strings.Count(logged.String(), "mcp request refused") >= 3 }, 5*time.Second, 20*time.Millisecond)
	log := logged.String()
	assert.NotContains(t, log, "hunter2")
	assert.NotContains(t, log, "correcthorse")
	assert.Contains(t, log, "name must be a string")
	assert.Contains(t, log, "invalid JSON at byte")
	var unauth int
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "mcp request refused") && strings.Contains(line, "status=401") {
			unauth++
		}
	}
	assert.Equal(t, 1, unauth, "50 refused tokens make one log line per interval:\n%s", log)
}

// The attack: an unauthenticated POST announcing a 100-byte body and
// sending none got its 401 only after the 30 s body timeout (the server
// waited for the body to keep the connection). Now the refusal closes the
// connection and arrives at once.
func TestRefusalBeforeTheBodyIsImmediate(t *testing.T) {
	base := startHTTP(t, "-tokens", "testdata/tokens.json")
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	start := time.Now()
	_, err = fmt.Fprintf(conn, "POST /mcp HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n", strings.TrimPrefix(base, "http://"))
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	resp.Body.Close()
	elapsed := time.Since(start)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Less(t, elapsed, time.Second, "the 401 must not wait for the body")
	assert.True(t, resp.Close, "the connection is closed after the refusal")
}

// On stdio: a JSON-RPC id over 128 bytes is refused with a plain error and
// put on the record without the id; a tools/call whose params do not
// decode is recorded in plain words, without HTTP wording, Go type names or
// the client's bytes, and the log line carries none of them either.
func TestStdioRefusesLongIDsAndRecordsUndecodableCallsPlainly(t *testing.T) {
	auditFile := filepath.Join(t.TempDir(), "audit.jsonl")
	longID := clientToken + strings.Repeat("I", 1<<20)
	in := strings.Join([]string{
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"sh","version":"1"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","id":"` + longID + `","method":"tools/call","params":{"name":"get_incident","arguments":{"id":"INC-1001"}}}`,
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":{"password":"hunter2hunter2"}}}`,
		`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"get_incident","arguments":{"id":"INC-1001"}}}`,
	}, "\n") + "\n"
	var out, stderr servertest.SyncBuffer
	require.NoError(t, run(context.Background(), []string{"-audit", auditFile}, strings.NewReader(in), &out, &stderr))
	assert.Contains(t, out.String(), "at most 128")
	assert.NotContains(t, out.String(), clientToken, "the id is not echoed")
	assert.Contains(t, out.String(), `"id":4`, "serving continues")

	records := servertest.ReadAudit(t, auditFile)
	var long, undecodable *audit.Record
	for i := range records {
		switch {
		case strings.Contains(records[i].Error, "JSON-RPC id too long"):
			long = &records[i]
		case strings.Contains(records[i].Error, "tools/call params could not be decoded"):
			undecodable = &records[i]
		}
	}
	require.NotNil(t, long, "the long id is on the record")
	require.NotNil(t, undecodable, "the undecodable call is on the record")
	assert.Equal(t, "tools/call params could not be decoded: name must be a string", undecodable.Error)
	raw, err := os.ReadFile(auditFile)
	require.NoError(t, err)
	for _, leak := range []string{clientToken, "hunter2", "HTTP 400", "CallToolParamsRaw"} {
		assert.NotContains(t, string(raw), leak)
		assert.NotContains(t, stderr.String(), leak)
	}
}
