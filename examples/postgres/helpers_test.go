package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// recorder keeps what an audit middleware would see of each call: the
// outcome and the internal cause.
type recorder struct {
	mu    sync.Mutex
	calls []recorded
}

type recorded struct {
	tool    string
	outcome mcpkit.Outcome
	err     error
}

func (r *recorder) middleware(next mcpkit.Handler) mcpkit.Handler {
	return func(ctx context.Context, c *mcpkit.Call) (*mcp.CallToolResult, error) {
		res, err := next(ctx, c)
		r.mu.Lock()
		r.calls = append(r.calls, recorded{tool: c.Tool.Name, outcome: c.Outcome(), err: c.Err()})
		r.mu.Unlock()
		return res, err
	}
}

func (r *recorder) last(t *testing.T) recorded {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	require.NotEmpty(t, r.calls)
	return r.calls[len(r.calls)-1]
}

func (r *recorder) all() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.calls...)
}

// harness is a real go-sdk client connected in memory to the server over
// a real database.
type harness struct {
	cs  *mcp.ClientSession
	db  *DB
	rec *recorder
	log *lockedWriter
}

// logs returns what the server logged so far.
func (h *harness) logs() string {
	h.log.mu.Lock()
	defer h.log.mu.Unlock()
	return h.log.w.(*strings.Builder).String()
}

// newHarness connects the server (as the reader role, with cfg adjusted by
// mod) to a client over in-memory transports.
func newHarness(t *testing.T, mod func(*config), opts ...mcpkit.Option) *harness {
	t.Helper()
	return newHarnessURL(t, needPG(t).readerURL(), mod, opts...)
}

// newHarnessURL is newHarness connecting with databaseURL.
func newHarnessURL(t *testing.T, databaseURL string, mod func(*config), opts ...mcpkit.Option) *harness {
	t.Helper()
	cfg := defaultConfig()
	if mod != nil {
		mod(&cfg)
	}
	require.NoError(t, cfg.validate())
	log := &lockedWriter{w: &strings.Builder{}}
	logger := slog.New(slog.NewTextHandler(log, nil))
	ctx := context.Background()
	db, err := Connect(ctx, databaseURL, cfg, logger)
	require.NoError(t, err)
	t.Cleanup(db.Close)
	rec := &recorder{}
	base := []mcpkit.Option{
		mcpkit.WithLogger(logger),
		mcpkit.WithMiddleware(rec.middleware),
		mcpkit.WithDefaultIdentity(mcpkit.Identity{Subject: "tester", Scopes: AllScopes, AuthMethod: "local", Transport: "memory"}),
	}
	srv, err := newServer(db, append(base, opts...)...)
	require.NoError(t, err)
	cs := mcpkittest.NewHarness(t, srv).Session
	return &harness{cs: cs, db: db, rec: rec, log: log}
}

// call calls a tool and returns the result; a protocol error fails the test.
func (h *harness) call(t *testing.T, name string, args map[string]any) *mcp.CallToolResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := h.cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	require.NoError(t, err)
	return res
}

// ok calls a tool that must succeed and decodes its structured result.
func (h *harness) ok(t *testing.T, name string, args map[string]any, out any) {
	t.Helper()
	res := h.call(t, name, args)
	require.False(t, res.IsError, "%s(%v): %s", name, args, mcpkittest.Text(res))
	b, err := json.Marshal(res.StructuredContent)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, out))
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
