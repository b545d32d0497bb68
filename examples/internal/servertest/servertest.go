// Package servertest holds the test helpers the example servers share: run
// a server in-process over HTTP on a free loopback port, connect a go-sdk
// client with a token, and read an audit file. It is imported by tests
// only.
package servertest

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
)

// Serve runs a server until ctx ends, with these command-line args and its
// log on stderr.
type Serve func(ctx context.Context, args []string, stderr io.Writer) error

// StartHTTP runs serve with "-http ADDR" on a free loopback port plus args,
// logs through t, waits until /healthz answers, and returns the base URL.
// When the test ends the server is stopped and must shut down cleanly.
func StartHTTP(t *testing.T, serve Serve, args ...string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- serve(ctx, append([]string{"-http", addr}, args...), pw) }()
	logged := make(chan struct{})
	go func() { // keep the log flowing; show it on failure
		defer close(logged)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			t.Log(sc.Text())
		}
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err, "graceful shutdown")
		case <-time.After(15 * time.Second):
			t.Error("server did not stop")
		}
		_ = pw.Close()
		<-logged
	})
	base := "http://" + addr
	require.Eventually(t, func() bool {
		select {
		case err := <-done:
			t.Fatalf("server stopped: %v", err)
		default:
		}
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK
	}, 15*time.Second, 20*time.Millisecond)
	return base
}

// TokenClient is an HTTP client that sends token as a bearer credential.
func TokenClient(token string) *http.Client {
	return &http.Client{Transport: tokenTransport(token)}
}

type tokenTransport string

func (tok tokenTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+string(tok))
	return http.DefaultTransport.RoundTrip(r)
}

// Connect connects a go-sdk client to base + "/mcp" with token; the session
// closes when the test ends.
func Connect(t *testing.T, base, token string) *mcp.ClientSession {
	t.Helper()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "http-test", Version: "1"}, nil).
		Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: base + "/mcp", HTTPClient: TokenClient(token)}, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

// ToolNames lists the tools the session sees.
func ToolNames(t *testing.T, cs *mcp.ClientSession) []string {
	t.Helper()
	lr, err := cs.ListTools(context.Background(), nil)
	require.NoError(t, err)
	var out []string
	for _, tool := range lr.Tools {
		out = append(out, tool.Name)
	}
	return out
}

// ReadAudit reads the records of an audit file; a file not yet created has
// none.
func ReadAudit(t *testing.T, path string) []audit.Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []audit.Record
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r audit.Record
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r))
		if r.Kind == "" { // not the log's genesis and checkpoint lines
			out = append(out, r)
		}
	}
	require.NoError(t, sc.Err())
	return out
}

// VerifyAudit verifies the audit log at path (its rotated files first)
// with the key file the example servers create next to it, path+".key".
func VerifyAudit(t *testing.T, path string) (audit.VerifyResult, error) {
	t.Helper()
	keys, err := audit.ReadKeyFile(path + ".key")
	require.NoError(t, err)
	rot, err := audit.RotatedFiles(path)
	require.NoError(t, err)
	return audit.Verify(keys, append(rot, path)...)
}

// SyncBuffer is an io.Writer safe for a server's goroutines.
type SyncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
