package audit_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/transport"
)

const floodAliceToken = "alice-token-0123456789"

type noteIn struct {
	Text string `json:"text" jsonschema:"description=Text,maxLength=100"`
}

type noteOut struct {
	Text string `json:"text" jsonschema:"description=Text"`
}

// floodServer serves, on 127.0.0.1, a server audited to a hash-chained
// file with the wiring the examples use: the transport's reject hook
// passes every refusal, with the request's address, to Auditor.Refused.
func floodServer(t *testing.T, path string, opts ...audit.Option) (url string, a *audit.Auditor, file *audit.FileSink, unauth *atomic.Int64) {
	t.Helper()
	file, err := openFile(path)
	require.NoError(t, err)
	a = must(audit.New(file, opts...))
	srv, err := mcpkit.NewServer(&mcp.Implementation{Name: "notes", Version: "1.0.0"},
		mcpkit.WithMiddleware(a.Middleware()), mcpkit.WithGates(mcpkit.ScopeGate()))
	require.NoError(t, err)
	handler := func(_ context.Context, in noteIn) (noteOut, error) { return noteOut(in), nil }
	require.NoError(t, mcpkit.AddTool(srv, mcpkit.Tool{Name: "get_note", Description: "Read a note.",
		Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Scopes: []string{"notes:read"}}}, handler))
	require.NoError(t, mcpkit.AddTool(srv, mcpkit.Tool{Name: "delete_note", Description: "Delete a note.",
		Policy: mcpkit.Policy{Risk: mcpkit.Destructive, Scopes: []string{"notes:admin"}}}, handler))
	st, err := transport.ParseStaticTokens([]byte(`{"` + floodAliceToken + `": {"sub": "alice", "scopes": ["notes:read"]}}`))
	require.NoError(t, err)
	unauth = &atomic.Int64{}
	h, err := transport.NewHandler(srv, transport.WithAuthenticator(st),
		transport.WithRejectHook(func(r *http.Request, rej transport.Rejection) {
			if rej.Identity == nil {
				unauth.Add(1)
			}
			_ = a.Refused(r.Context(), audit.Refusal{Server: srv.Implementation(), Status: rej.Status, Reason: rej.Reason,
				Tool: rej.Tool, Identity: rej.Identity, Scope: len(rej.Missing) > 0, Network: rej.Network})
		}))
	require.NoError(t, err)
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts.URL, a, file, unauth
}

// clientFrom is an HTTP client whose connections come from the loopback
// address ip, so that one test can play many sources.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 4}}
}

func postRPC(c *http.Client, url, token, body string) (int, error) {
	req, err := http.NewRequest(http.MethodPost, url+"/mcp", strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = bufio.NewReader(resp.Body).WriteTo(discard{})
	resp.Body.Close()
	return resp.StatusCode, nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func readRecords(t *testing.T, path string) (recs []audit.Record, lines []string) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if line == "" {
			continue
		}
		var r audit.Record
		require.NoError(t, json.Unmarshal([]byte(line), &r))
		if r.Kind != "" {
			continue // the log's own genesis and checkpoint lines
		}
		recs, lines = append(recs, r), append(lines, line)
	}
	return recs, lines
}

// TestUnauthenticatedFloodIsBoundedOnDisk plays the denial of service:
// clients from 16 loopback addresses send requests with no token or a
// forged one as fast as they can, for two seconds. Each 401 used to append
// a ~430-byte record; a full disk then refuses every call. Now the file
// grows by at most the burst plus the byte budget over the flood, the
// summary records account for every refusal not written in full, sources
// past the key limit are counted under "other", and an authenticated
// caller's calls and scope refusals during the flood each keep their own
// record.
func TestUnauthenticatedFloodIsBoundedOnDisk(t *testing.T) {
	const (
		rate, burst = 8 << 10, 16 << 10
		sources     = 16
		maxSources  = 8
		// The flood runs until it is one (see enough) and the
		// authenticated caller is done, at most floodCap: on a loaded
		// machine a fixed duration may send too little to test anything.
		floodCap = 30 * time.Second
	)
	lim, err := audit.NewRefusalLimits(audit.WithRefusalInterval(500*time.Millisecond), audit.WithRefusalBytesPerSecond(rate),
		audit.WithRefusalBurstBytes(burst), audit.WithRefusalMaxSources(maxSources))
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	url, a, file, unauth := floodServer(t, path, audit.WithRefusalLimits(lim))

	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), floodCap)
	defer cancel()
	var wg sync.WaitGroup
	var sent atomic.Int64
	var aliceDone atomic.Bool
	// bound is what the refusal records may take on disk after d: burst +
	// budget, plus one final summary Close may overdraw.
	bound := func(d time.Duration) int { return burst + int(rate*d.Seconds()) + 1024 }
	// enough: one record per refusal would be past three times the bound.
	enough := func() bool { return int(sent.Load())*300 > 3*bound(time.Since(start)) }
	for w := range 4 {
		wg.Go(func() {
			clients := make([]*http.Client, 0, sources/4)
			for i := w; i < sources; i += 4 {
				clients = append(clients, clientFrom(fmt.Sprintf("127.0.0.%d", 10+i)))
			}
			for n := 0; ctx.Err() == nil && n < 200000 && (!aliceDone.Load() || !enough() || time.Since(start) < time.Second); n++ {
				token := ""
				if n%2 == 1 {
					token = "forged-token-" + fmt.Sprint(n)
				}
				if code, err := postRPC(clients[n%len(clients)], url, token, `{"jsonrpc":"2.0","id":1,"method":"ping"}`); err == nil && code == http.StatusUnauthorized {
					sent.Add(1)
				}
			}
		})
	}
	// An authenticated caller during the flood: 10 calls that run, 5 the
	// transport refuses for scope.
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "alice-client", Version: "1"}, nil).Connect(context.Background(),
		&mcp.StreamableClientTransport{Endpoint: url + "/mcp", HTTPClient: &http.Client{Transport: bearer{floodAliceToken}}}, nil)
	require.NoError(t, err)
	for range 10 {
		res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_note", Arguments: map[string]any{"text": "hi"}})
		require.NoError(t, err)
		require.False(t, res.IsError)
	}
	alice := clientFrom("127.0.0.1")
	for range 5 {
		code, err := postRPC(alice, url, floodAliceToken, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"delete_note","arguments":{"text":"x"}}}`)
		require.NoError(t, err)
		require.Equal(t, http.StatusForbidden, code)
	}
	require.NoError(t, cs.Close())
	aliceDone.Store(true)
	wg.Wait()
	elapsed := time.Since(start)
	require.NoError(t, a.Close(context.Background()))
	require.NoError(t, file.Close(context.Background()))

	recs, lines := readRecords(t, path)
	var aliceBytes, unauthBytes int
	var full, counted, aliceOK, aliceDenied int
	var other bool
	for i, r := range recs {
		if r.Principal.Subject == "alice" {
			aliceBytes += len(lines[i]) + 1
			switch {
			case r.Outcome == "ok" && r.Tool == "get_note":
				aliceOK++
			case r.Outcome == "denied_scope" && r.Tool == "delete_note":
				aliceDenied++
			}
			continue
		}
		unauthBytes += len(lines[i]) + 1
		require.NotEmpty(t, r.Source, "every unauthenticated refusal record names its source")
		if r.Refusals != nil {
			counted += r.Refusals.Count
			other = other || r.Source == audit.SourceOther
			assert.False(t, r.Refusals.Last.Before(r.Refusals.First.Time))
		} else {
			full++
			assert.Equal(t, "unauthenticated", r.Outcome)
		}
	}
	got := unauth.Load()
	limit := bound(elapsed)
	require.Greater(t, int(sent.Load())*300, 2*limit, "the flood was a flood: one record per refusal would be past twice the bound")
	t.Logf("flood: %d unauthenticated refusals in %v: %d bytes of refusal records (%.0f B/s; budget %d B/s + %d burst), %d in full, %d counted in summaries",
		got, elapsed.Round(time.Millisecond), unauthBytes, float64(unauthBytes)/elapsed.Seconds(), rate, burst, full, counted)

	assert.LessOrEqual(t, unauthBytes, limit)
	assert.EqualValues(t, got, full+counted, "every refusal is in a record or a count")
	assert.True(t, other, "sources past the key limit are counted under %q", audit.SourceOther)
	assert.Equal(t, 10, aliceOK, "each authenticated call keeps its record")
	assert.Equal(t, 5, aliceDenied, "each authenticated refusal keeps its record")
	_, err = audit.Verify(testKeys, path)
	assert.NoError(t, err)
}
