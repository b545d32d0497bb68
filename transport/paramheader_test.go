package transport_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/serve"
	"github.com/mcpkit-go/mcpkit/transport"
)

// routeIn is the input of a tool whose policy mirrors three arguments
// into Mcp-Param-* headers; query is not mirrored.
type routeIn struct {
	Region string `json:"region,omitempty" jsonschema:"description=Region to run in"`
	Shard  int    `json:"shard,omitempty" jsonschema:"description=Shard number"`
	DryRun bool   `json:"dry_run,omitempty" jsonschema:"description=Only plan"`
	Query  string `json:"query,omitempty" jsonschema:"description=The query"`
}

// paramServer serves run_query (marked arguments) and get_echo (none)
// over HTTP on 127.0.0.1, its refusals through serve.AuditRefusals into a
// real audit.Auditor, its log into logs.
type paramServer struct {
	url     string
	ran     *int64Counter
	mu      sync.Mutex
	records []*audit.Record
	logs    *bytes.Buffer
}

func serveParams(t *testing.T, opts ...transport.Option) *paramServer {
	t.Helper()
	srv, err := mcpkit.NewServer(&mcp.Implementation{Name: "params", Version: "1.0.0"})
	require.NoError(t, err)
	ps := &paramServer{ran: &int64Counter{}, logs: &bytes.Buffer{}}
	require.NoError(t, mcpkit.AddTool(srv, mcpkit.Tool{Name: "run_query", Description: "Run a query in a region.",
		Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Public: true,
			Headers: map[string]string{"region": "Region", "shard": "Shard", "dry_run": "Dry-Run"}}},
		func(_ context.Context, in routeIn) (routeIn, error) { ps.ran.add(); return in, nil }))
	require.NoError(t, mcpkit.AddTool(srv, mcpkit.Tool{Name: "get_echo", Description: "Echo text.", Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Public: true}},
		func(_ context.Context, in echoIn) (echoIn, error) { ps.ran.add(); return in, nil }))
	aud := must(audit.New(audit.SinkFunc(func(_ context.Context, r *audit.Record) error {
		ps.mu.Lock()
		defer ps.mu.Unlock()
		ps.records = append(ps.records, r)
		return nil
	})))
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		logMu.Lock()
		defer logMu.Unlock()
		return ps.logs.Write(p)
	}), nil))
	opts = append([]transport.Option{transport.WithAuthenticator(staticTokens(t)), transport.WithLogger(logger),
		serve.AuditRefusals(aud, srv.Implementation())}, opts...)
	h, err := transport.NewHandler(srv, opts...)
	require.NoError(t, err)
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	ps.url = ts.URL
	return ps
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func (ps *paramServer) recordsJSON(t *testing.T) string {
	t.Helper()
	ps.mu.Lock()
	defer ps.mu.Unlock()
	b, err := json.Marshal(ps.records)
	require.NoError(t, err)
	return string(b)
}

func (ps *paramServer) lastRecord(t *testing.T) *audit.Record {
	t.Helper()
	ps.mu.Lock()
	defer ps.mu.Unlock()
	require.NotEmpty(t, ps.records, "the refusal must be on the record")
	return ps.records[len(ps.records)-1]
}

// paramCall is a tools/call body at version (with _meta from 2026-07-28).
func paramCall(tool, args, version string) string {
	meta := ""
	if version >= newRevision {
		meta = `,"_meta":{"io.modelcontextprotocol/protocolVersion":"` + version + `","io.modelcontextprotocol/clientInfo":{"name":"raw","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}`
	}
	return `{"jsonrpc":"2.0","id":41,"method":"tools/call","params":{"name":"` + tool + `","arguments":` + args + meta + `}}`
}

// postParams sends a raw POST with every header line given (repeats kept).
func postParams(t *testing.T, url, body string, version string, lines [][2]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/mcp", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+aliceToken)
	req.Header.Set("Mcp-Protocol-Version", version)
	req.Header.Set("Mcp-Method", "tools/call")
	for _, l := range lines {
		if l[0] == "Mcp-Method" {
			req.Header.Set(l[0], l[1]) // the body's method, replacing tools/call
			continue
		}
		req.Header[l[0]] = append(req.Header[l[0]], l[1]) // no canonicalization: the server's to do
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

// TestParamHeaderDisagreementIsRefused: every way a request's Mcp-Param-*
// headers can disagree with its body (the gap a gateway routing on the
// header would fall into) is refused with 400 and -32020 before the tool
// runs, and is on the audit record; the value sent never appears in the
// answer, the record or the log.
func TestParamHeaderDisagreementIsRefused(t *testing.T) {
	const secret = "hunter2-value-never-logged"
	name := func(tool string) [2]string { return [2]string{"Mcp-Name", tool} }
	cases := []struct {
		name    string
		version string
		tool    string
		args    string
		lines   [][2]string
		want    string
	}{
		{"header disagrees with body", newRevision, "run_query", `{"region":"eu-west1"}`,
			[][2]string{{"Mcp-Param-Region", "us-" + secret}}, `Mcp-Param-Region does not match the body's "region"`},
		{"header missing for a present argument", newRevision, "run_query", `{"region":"` + secret + `"}`,
			nil, "Mcp-Param-Region is missing"},
		{"header for an absent argument", newRevision, "run_query", `{"query":"q"}`,
			[][2]string{{"Mcp-Param-Region", secret}}, `body has no "region" argument`},
		{"header for a null argument", newRevision, "run_query", `{"region":null}`,
			[][2]string{{"Mcp-Param-Region", secret}}, `body has no "region" argument`},
		{"header for an unmarked argument", newRevision, "run_query", `{"query":"` + secret + `"}`,
			[][2]string{{"Mcp-Param-Query", secret}}, "Mcp-Param-Query mirrors no argument of tool"},
		{"header for a tool marking none", newRevision, "get_echo", `{"text":"hi"}`,
			[][2]string{{"Mcp-Param-Text", "hi"}}, "it mirrors none"},
		{"duplicate header", newRevision, "run_query", `{"region":"eu"}`,
			[][2]string{{"Mcp-Param-Region", "eu"}, {"Mcp-Param-Region", "us"}}, "sent 2 times"},
		{"duplicate header in another case", newRevision, "run_query", `{"region":"eu"}`,
			[][2]string{{"Mcp-Param-Region", "eu"}, {"mcp-param-region", "eu"}}, "sent 2 times"},
		{"invalid base64", newRevision, "run_query", `{"region":"Hello"}`,
			[][2]string{{"Mcp-Param-Region", "=?base64?SGVsbG8?="}}, "not valid padded base64"},
		{"base64 of another value", newRevision, "run_query", `{"region":"eu"}`,
			[][2]string{{"Mcp-Param-Region", "=?base64?dXM=?="}}, "does not match"},
		{"non-ASCII byte", newRevision, "run_query", `{"region":"é"}`,
			[][2]string{{"Mcp-Param-Region", "é"}}, "outside visible ASCII"},
		{"integer mismatch", newRevision, "run_query", `{"shard":7}`,
			[][2]string{{"Mcp-Param-Shard", "8"}}, `"shard"`},
		{"integer as exponent", newRevision, "run_query", `{"shard":42}`,
			[][2]string{{"Mcp-Param-Shard", "4.2e1"}}, "does not match"},
		{"integer beyond 2^53", newRevision, "run_query", `{"shard":9007199254740993}`,
			[][2]string{{"Mcp-Param-Shard", "9007199254740993"}}, "within ±(2^53-1)"},
		{"boolean case", newRevision, "run_query", `{"dry_run":true}`,
			[][2]string{{"Mcp-Param-Dry-Run", "True"}}, "does not match"},
		{"argument spelled in another case", newRevision, "run_query", `{"region":"eu","Region":"us"}`,
			[][2]string{{"Mcp-Param-Region", "eu"}}, `also as "Region"`},
		{"header on another method", newRevision, "", "",
			[][2]string{{"Mcp-Param-Region", secret}}, "not tools/call"},
		// Before 2026-07-28 the headers are not required, but one that is
		// sent is held to the body all the same: a proxy may route on it.
		{"older version: header disagrees", "2025-11-25", "run_query", `{"region":"eu"}`,
			[][2]string{{"Mcp-Param-Region", secret}}, "does not match"},
		{"older version: header for an unmarked argument", "2025-11-25", "get_echo", `{"text":"hi"}`,
			[][2]string{{"Mcp-Param-Text", "hi"}}, "mirrors no argument"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ps := serveParams(t)
			body := paramCall(tc.tool, tc.args, tc.version)
			lines := append([][2]string{name(tc.tool)}, tc.lines...)
			if tc.tool == "" {
				body = `{"jsonrpc":"2.0","id":41,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"` + newRevision + `","io.modelcontextprotocol/clientInfo":{"name":"raw","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}}}`
				lines = append([][2]string{{"Mcp-Method", "tools/list"}}, tc.lines...)
			}
			if tc.version < newRevision {
				cs := connectAt(t, ps.url, aliceToken, tc.version)
				lines = append(lines, [2]string{"Mcp-Session-Id", cs.ID()})
			}
			resp := postParams(t, ps.url, body, tc.version, lines)
			answer := readBody(t, resp)
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode, answer)
			code, msg := rpcError(t, answer)
			assert.EqualValues(t, mcp.CodeHeaderMismatch, code)
			assert.Contains(t, msg, tc.want)
			assert.Zero(t, ps.ran.load(), "the tool never ran")

			rec := ps.lastRecord(t)
			assert.Equal(t, audit.OutcomeInvalidRequest, rec.Outcome)
			assert.Contains(t, rec.Error, "Mcp-Param header check")
			assert.Equal(t, "alice", rec.Principal.Subject)
			assert.NotContains(t, answer, secret, "the answer never echoes a header value")
			assert.NotContains(t, ps.recordsJSON(t), secret, "the record never holds a header value")
			assert.NotContains(t, ps.logs.String(), secret, "the log never holds a header value")
		})
	}
}

// TestParamHeadersThatAgreeAreAccepted: headers that match the body, in
// every encoding the protocol allows, let the call run; so does a
// 2026-07-28 call whose marked arguments are absent, and an older
// client that sends no headers at all.
func TestParamHeadersThatAgreeAreAccepted(t *testing.T) {
	cases := []struct {
		name, version, args string
		lines               [][2]string
	}{
		{"plain", newRevision, `{"region":"us-west1","shard":7,"dry_run":false,"query":"q"}`,
			[][2]string{{"Mcp-Param-Region", "us-west1"}, {"Mcp-Param-Shard", "7"}, {"Mcp-Param-Dry-Run", "false"}}},
		{"lower-case header names", newRevision, `{"region":"eu"}`, [][2]string{{"mcp-param-region", "eu"}}},
		{"base64 of non-ASCII", newRevision, `{"region":"Hello, 世界"}`, [][2]string{{"Mcp-Param-Region", "=?base64?SGVsbG8sIOS4lueVjA==?="}}},
		{"base64 of the sentinel itself", newRevision, `{"region":"=?base64?literal?="}`, [][2]string{{"Mcp-Param-Region", "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?="}}},
		{"literal without suffix", newRevision, `{"region":"=?base64?SGVsbG8="}`, [][2]string{{"Mcp-Param-Region", "=?base64?SGVsbG8="}}},
		{"integer compared numerically", newRevision, `{"shard":42}`, [][2]string{{"Mcp-Param-Shard", "42.0"}}},
		{"negative integer", newRevision, `{"shard":-7}`, [][2]string{{"Mcp-Param-Shard", "-7"}}},
		{"absent arguments need no header", newRevision, `{"query":"q"}`, nil},
		{"no arguments", newRevision, `{}`, nil},
		{"older version without headers", "2025-11-25", `{"region":"eu","shard":3}`, nil},
		{"older version with matching headers", "2025-11-25", `{"region":"eu"}`, [][2]string{{"Mcp-Param-Region", "eu"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ps := serveParams(t)
			lines := append([][2]string{{"Mcp-Name", "run_query"}}, tc.lines...)
			if tc.version < newRevision {
				cs := connectAt(t, ps.url, aliceToken, tc.version)
				lines = append(lines, [2]string{"Mcp-Session-Id", cs.ID()})
			}
			resp := postParams(t, ps.url, paramCall("run_query", tc.args, tc.version), tc.version, lines)
			answer := readBody(t, resp)
			require.Equal(t, http.StatusOK, resp.StatusCode, answer)
			assert.NotContains(t, answer, `"error"`)
			assert.EqualValues(t, 1, ps.ran.load(), "the tool ran")
		})
	}
}

// TestGoSDKClientMirrorsMarkedArguments: the go-sdk client at 2026-07-28
// reads x-mcp-header from tools/list and sends the headers itself, so a
// call after listing passes. A call before any listing goes without them
// and is refused (-32020), as the protocol says; the client is told to
// list the tools again, and after it does the same call passes.
func TestGoSDKClientMirrorsMarkedArguments(t *testing.T) {
	ps := serveParams(t)
	var sent http.Header
	var sentMu sync.Mutex
	client := &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+aliceToken)
		sentMu.Lock()
		sent = r.Header.Clone()
		sentMu.Unlock()
		return http.DefaultTransport.RoundTrip(r)
	})}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "go-client", Version: "1.0.0"}, nil).Connect(context.Background(),
		&mcp.StreamableClientTransport{Endpoint: ps.url + "/mcp", HTTPClient: client}, &mcp.ClientSessionOptions{ProtocolVersion: newRevision})
	require.NoError(t, err)
	t.Cleanup(func() { _ = cs.Close() })
	args := map[string]any{"region": "Zürich", "shard": 12, "dry_run": true, "query": "select 1"}

	_, err = cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "run_query", Arguments: args})
	require.Error(t, err, "without a listing the client sends no Mcp-Param headers")
	assert.Contains(t, err.Error(), "Mcp-Param-")
	assert.Contains(t, err.Error(), "list the tools again")
	assert.Zero(t, ps.ran.load())

	_, err = cs.ListTools(context.Background(), nil)
	require.NoError(t, err)
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "run_query", Arguments: args})
	require.NoError(t, err)
	require.False(t, res.IsError)
	assert.EqualValues(t, 1, ps.ran.load())
	sentMu.Lock()
	defer sentMu.Unlock()
	assert.Equal(t, "=?base64?WsO8cmljaA==?=", sent.Get("Mcp-Param-Region"), "non-ASCII travels base64-encoded")
	assert.Equal(t, "12", sent.Get("Mcp-Param-Shard"))
	assert.Equal(t, "true", sent.Get("Mcp-Param-Dry-Run"))
	assert.Empty(t, sent.Get("Mcp-Param-Query"), "an unmarked argument is never mirrored")
}

// TestLegacySSEParamHeaderDisagreementIsRefused: the deprecated HTTP+SSE
// endpoint holds Mcp-Param-* headers to the body too (its clients need not
// send them): a go-sdk SSE client whose tools/call carries a header naming
// another region than the call is refused, and the tool does not run.
func TestLegacySSEParamHeaderDisagreementIsRefused(t *testing.T) {
	ps := serveParams(t, transport.WithLegacySSE("/sse"))
	hostile := &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+aliceToken)
		if r.Method == http.MethodPost && r.Body != nil {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				return nil, err
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			if bytes.Contains(body, []byte(`"tools/call"`)) {
				r.Header.Set("Mcp-Param-Region", "us-east1")
			}
		}
		return http.DefaultTransport.RoundTrip(r)
	})}
	honest := &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+aliceToken)
		return http.DefaultTransport.RoundTrip(r)
	})}
	for _, tc := range []struct {
		name   string
		client *http.Client
		runs   bool
	}{{"honest client without headers", honest, true}, {"disagreeing header", hostile, false}} {
		t.Run(tc.name, func(t *testing.T) {
			before := ps.ran.load()
			cs, err := mcp.NewClient(&mcp.Implementation{Name: "sse-client", Version: "1.0.0"}, nil).Connect(context.Background(),
				&mcp.SSEClientTransport{Endpoint: ps.url + "/sse", HTTPClient: tc.client}, nil)
			require.NoError(t, err)
			defer func() { _ = cs.Close() }()
			_, err = cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "run_query", Arguments: map[string]any{"region": "eu-west1"}})
			if tc.runs {
				require.NoError(t, err)
				assert.Equal(t, before+1, ps.ran.load())
				return
			}
			require.Error(t, err)
			assert.Equal(t, before, ps.ran.load(), "the tool never ran")
		})
	}
	assert.Contains(t, ps.recordsJSON(t), "Mcp-Param header check")
}

// BenchmarkParamHeaderCalls is the cost of the Mcp-Param-* check on a
// 2026-07-28 call: run_query with three mirrored arguments (the go-sdk
// client sends the headers, the transport and then the SDK compare them)
// next to get_query, the same input mirroring none.
func BenchmarkParamHeaderCalls(b *testing.B) {
	srv, err := mcpkit.NewServer(&mcp.Implementation{Name: "params", Version: "1.0.0"})
	require.NoError(b, err)
	require.NoError(b, mcpkit.AddTool(srv, mcpkit.Tool{Name: "run_query", Description: "Run a query in a region.",
		Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Public: true,
			Headers: map[string]string{"region": "Region", "shard": "Shard", "dry_run": "Dry-Run"}}},
		func(_ context.Context, in routeIn) (routeIn, error) { return in, nil }))
	require.NoError(b, mcpkit.AddTool(srv, mcpkit.Tool{Name: "get_query", Description: "Get a query plan in a region.",
		Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Public: true}},
		func(_ context.Context, in routeIn) (routeIn, error) { return in, nil }))
	h, err := transport.NewHandler(srv, transport.WithAuthenticator(staticTokens(b)))
	require.NoError(b, err)
	ts := httptest.NewServer(h)
	b.Cleanup(ts.Close)
	cs := connectAt(b, ts.URL, aliceToken, newRevision)
	_, err = cs.ListTools(context.Background(), nil)
	require.NoError(b, err)
	args := map[string]any{"region": "eu-west1", "shard": 7, "dry_run": true, "query": "q"}
	for _, p := range []*mcp.CallToolParams{{Name: "get_query", Arguments: args}, {Name: "run_query", Arguments: args}} {
		b.Run(p.Name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				res, err := cs.CallTool(context.Background(), p)
				if err != nil || res.IsError {
					b.Fatal(err, res)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
		})
	}
}
