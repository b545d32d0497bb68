package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/examples/internal/servertest"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// connectAt connects a go-sdk client at a protocol version to base + "/mcp".
func connectAt(t *testing.T, base, token, version string) *mcp.ClientSession {
	t.Helper()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "http-test", Version: "1"}, nil).
		Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: base + "/mcp", HTTPClient: servertest.TokenClient(token)},
			&mcp.ClientSessionOptions{ProtocolVersion: version})
	require.NoError(t, err)
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

// TestHTTPServesBothProtocolVersionsAndPrivateLists: the example's default
// HTTP handler (no -stateless) serves a 2025-11-25 client with a session
// and a 2026-07-28 client without one, neither downgraded; for both, bob
// (incidents:read) and carol (read, write, admin, approve) get different
// tool lists, each marked cacheScope "private".
func TestHTTPServesBothProtocolVersionsAndPrivateLists(t *testing.T) {
	base := startHTTP(t, "-tokens", "testdata/tokens.json")
	for _, tc := range []struct {
		version string
		session bool
	}{{"2025-11-25", true}, {"2026-07-28", false}} {
		t.Run(tc.version, func(t *testing.T) {
			lists := map[string][]string{}
			for _, who := range []struct{ name, token string }{{"bob", bobDevToken}, {"carol", carolDevToken}} {
				cs := connectAt(t, base, who.token, tc.version)
				require.Equal(t, tc.version, cs.InitializeResult().ProtocolVersion, "served at the version asked for")
				assert.Equal(t, tc.session, cs.ID() != "", "session id %q", cs.ID())
				lr, err := cs.ListTools(context.Background(), nil)
				require.NoError(t, err)
				assert.Equal(t, "private", lr.CacheScope, "the list is filtered per caller")
				for _, tool := range lr.Tools {
					lists[who.name] = append(lists[who.name], tool.Name)
				}
				res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "list_incidents", Arguments: map[string]any{}})
				require.NoError(t, err)
				require.False(t, res.IsError, mcpkittest.Text(res))
			}
			assert.Contains(t, lists["carol"], "delete_incident")
			assert.NotContains(t, lists["bob"], "delete_incident")
			assert.NotContains(t, lists["bob"], "resolve_incident")
			assert.NotEqual(t, lists["bob"], lists["carol"])
		})
	}
}

// sharedCache is a naive shared HTTP cache in front of the server, as an
// intermediary would be: it keys on the JSON-RPC method alone (not on who asks)
// and keeps whatever result says cacheScope "public".
type sharedCache struct {
	next string
	mu   sync.Mutex
	kept map[string][]byte
	hits int
}

func (c *sharedCache) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		// It buffers whole responses: no standalone streams through it.
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	reqBody, _ := io.ReadAll(r.Body)
	var msg struct {
		Method string `json:"method"`
	}
	_ = json.Unmarshal(reqBody, &msg)
	key := msg.Method
	c.mu.Lock()
	body, hit := c.kept[key]
	if hit {
		c.hits++
	}
	c.mu.Unlock()
	if hit {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write(body)
		return
	}
	req, _ := http.NewRequestWithContext(r.Context(), r.Method, c.next+r.URL.Path, bytes.NewReader(reqBody))
	req.Header = r.Header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	body, _ = io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK && bytes.Contains(body, []byte(`"cacheScope":"public"`)) && key == "tools/list" {
		c.mu.Lock()
		c.kept[key] = body
		c.mu.Unlock()
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
}

// TestSharedCacheCannotHandOneCallersListToAnother: carol lists the tools
// through a shared cache, then bob does. Because the list is private, the
// cache keeps nothing, and bob never sees carol's admin tools.
func TestSharedCacheCannotHandOneCallersListToAnother(t *testing.T) {
	base := startHTTP(t, "-tokens", "testdata/tokens.json")
	cache := &sharedCache{next: base, kept: map[string][]byte{}}
	proxy := httptest.NewServer(cache)
	t.Cleanup(proxy.Close)

	names := func(token string) string {
		lr, err := connectAt(t, proxy.URL, token, "2026-07-28").ListTools(context.Background(), nil)
		require.NoError(t, err)
		var out []string
		for _, tool := range lr.Tools {
			out = append(out, tool.Name)
		}
		return strings.Join(out, ",")
	}
	carol := names(carolDevToken)
	require.Contains(t, carol, "delete_incident")
	bob := names(bobDevToken)
	assert.NotContains(t, bob, "delete_incident", "carol's list leaked to bob through the shared cache")
	assert.NotContains(t, bob, "resolve_incident")
	cache.mu.Lock()
	defer cache.mu.Unlock()
	assert.Zero(t, cache.hits, "the cache served nothing")
	assert.Zero(t, len(cache.kept), "the cache kept nothing")
}
