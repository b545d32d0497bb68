package serve_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/serve"
)

// The test server: notes, with one read-only and one write tool.
const (
	scopeRead  = "notes:read"
	scopeWrite = "notes:write"
)

type getIn struct {
	ID string `json:"id" jsonschema:"description=Note id,pattern=^n[0-9]+$,example=n1"`
}

type note struct {
	ID   string `json:"id"`
	Text string `json:"text" jsonschema:"description=The note's text"`
}

type addIn struct {
	Text string `json:"text" jsonschema:"description=The note's text"`
}

// ran counts handler runs, so that a test can assert a refused call did
// not run.
type ran struct {
	mu sync.Mutex
	n  map[string]int
}

func (r *ran) inc(tool string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == nil {
		r.n = map[string]int{}
	}
	r.n[tool]++
}

func (r *ran) get(tool string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n[tool]
}

func registerNotes(r *ran) func(*mcpkit.Server) error {
	return func(srv *mcpkit.Server) error {
		err := mcpkit.AddTool(srv, mcpkit.Tool{
			Name: "get_note", Description: "Get one note by id.",
			Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Scopes: []string{scopeRead}},
		}, func(_ context.Context, in getIn) (note, error) {
			r.inc("get_note")
			return note{ID: in.ID, Text: "hello " + in.ID}, nil
		})
		if err != nil {
			return err
		}
		return mcpkit.AddTool(srv, mcpkit.Tool{
			Name: "add_note", Description: "Add a note.",
			Policy: mcpkit.Policy{Risk: mcpkit.Write, Scopes: []string{scopeWrite}},
		}, func(_ context.Context, in addIn) (note, error) {
			r.inc("add_note")
			return note{ID: "n99", Text: in.Text}, nil
		})
	}
}

func notesConfig(r *ran) serve.Config {
	return serve.Config{Name: "notes", Version: "1.0.0", Scopes: []string{scopeRead, scopeWrite}, Tools: registerNotes(r)}
}

const (
	aliceToken = "dev-alice-0123456789abcdef"
	bobToken   = "dev-bob-0123456789abcdef"
)

// writeTokens writes a static token file: alice may read and write, bob
// only read.
func writeTokens(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "tokens.json")
	body := `{"` + aliceToken + `": {"sub": "alice", "scopes": ["notes:read", "notes:write"]},
"` + bobToken + `": {"sub": "bob", "scopes": ["notes:read"]}}`
	require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
	return p
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// bearer adds a token to every request.
type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

func httpClient(token string) *http.Client { return &http.Client{Transport: bearer{token}} }

func connectHTTP(t *testing.T, base, token string) *mcp.ClientSession {
	t.Helper()
	tr := &mcp.StreamableClientTransport{Endpoint: base + "/mcp", HTTPClient: httpClient(token), MaxRetries: -1, DisableStandaloneSSE: true}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil).Connect(context.Background(), tr, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

// waitHealthy waits until the server at base answers /healthz, or Run
// returned.
func waitHealthy(t *testing.T, base string, done <-chan error) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("server stopped: %v", err)
		default:
		}
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("server never became healthy")
}

// readAudit reads every line of an audit file.
func readAudit(t *testing.T, path string) []audit.Record {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []audit.Record
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r audit.Record
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r), sc.Text())
		out = append(out, r)
	}
	require.NoError(t, sc.Err())
	return out
}

// calls is the records of calls and refusals (no genesis or checkpoint
// lines).
func calls(recs []audit.Record) []audit.Record {
	var out []audit.Record
	for _, r := range recs {
		if r.Kind == "" {
			out = append(out, r)
		}
	}
	return out
}

func findRecord(recs []audit.Record, pred func(audit.Record) bool) (audit.Record, bool) {
	for _, r := range recs {
		if pred(r) {
			return r, true
		}
	}
	return audit.Record{}, false
}

// must returns v, panicking on err: for building values from options a
// test knows to be valid (constructors return their errors).
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
