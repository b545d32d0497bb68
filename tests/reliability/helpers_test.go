package reliability

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/open-feature/go-sdk/openfeature/isolated"
	"github.com/open-feature/go-sdk/openfeature/memprovider"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/flags"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/transport"
)

// Tokens of the static-token file every stack serves: alice may read and
// write, bob may only read.
const (
	aliceToken = "alice-reliability-0123456789"
	bobToken   = "bob-reliability-0123456789ab"
	wrongToken = "wrong-reliability-0123456789"
)

const tokensJSON = `{
	"` + aliceToken + `": {"sub": "alice", "scopes": ["items:read", "items:write"]},
	"` + bobToken + `": {"sub": "bob", "scopes": ["items:read"]}}`

type getIn struct {
	ID string `json:"id" jsonschema:"description=Item id such as I-001,pattern=^I-[0-9]{3}$"`
}

type item struct {
	ID   string `json:"id" jsonschema:"description=Item id"`
	Name string `json:"name" jsonschema:"description=Item name"`
}

type transferIn struct {
	To     string `json:"to" jsonschema:"description=Account,minLength=1,maxLength=32"`
	Amount int    `json:"amount" jsonschema:"description=Amount in USD,minimum=1,maximum=1000000"`
}

type transferOut struct {
	Reference string `json:"reference" jsonschema:"description=Transfer reference"`
}

type purgeIn struct {
	Before string `json:"before" jsonschema:"description=Purge items older than this date,maxLength=32"`
}

type purgeOut struct {
	Purged int `json:"purged" jsonschema:"description=How many"`
}

// stackConfig changes one part of the default stack.
type stackConfig struct {
	// auditPath is where the audit file goes (default: in t.TempDir()).
	auditPath string
	// wrap wraps the audit file sink (to inject faults).
	wrap      func(audit.Sink) audit.Sink
	auditOpts []audit.Option
	// gate replaces the flag gate (default: in memory, purge_items off).
	gate mcpkit.Gate
	// approver replaces the default approver (approves even amounts,
	// denies odd ones).
	approver approval.Approver
	// auth replaces the static tokens.
	auth transport.Authenticator
	// mux, when set, gets extra routes (an approval console).
	mux func(*http.ServeMux)
}

// stack is one server under test: three tools behind audit (hash-chained
// file), flags, scopes and approval, served over streamable HTTP on
// 127.0.0.1 with static-token auth and refusals audited.
type stack struct {
	url       string
	auditPath string
	auditor   *audit.Auditor
	// runs counts handler executions per tool.
	runs     map[string]*atomic.Int64
	refusals atomic.Int64
	close    func()

	mu       sync.Mutex
	sessions []func() // closed first by close
}

// approveEven approves amounts that are even and denies odd ones, so that
// the client decides the verdict through its argument.
func approveEven() approval.Approver {
	return approval.ApproverFunc(func(_ context.Context, r *approval.Request) (approval.Decision, error) {
		var in transferIn
		if err := json.Unmarshal(r.Arguments, &in); err != nil {
			return approval.Decision{}, err
		}
		if in.Amount%2 == 0 {
			return approval.Decision{Verdict: approval.VerdictApproved, Approver: "reviewer"}, nil
		}
		return approval.Decision{Verdict: approval.VerdictDenied, Approver: "reviewer", Reason: "odd amounts are refused"}, nil
	})
}

// memoryFlags is a flag gate on an in-memory OpenFeature provider:
// everything on except purge_items.
func memoryFlags(tb testing.TB) (mcpkit.Gate, func()) {
	tb.Helper()
	ctx := context.Background()
	defs := map[string]memprovider.InMemoryFlag{}
	for tool, variant := range map[string]string{"get_item": "on", "send_payment": "on", "purge_items": "off"} {
		key := "tool." + tool
		defs[key] = memprovider.InMemoryFlag{Key: key, State: memprovider.Enabled, DefaultVariant: variant,
			Variants: map[string]any{"on": true, "off": false}}
	}
	api := isolated.NewAPI()
	if err := api.SetProviderAndWait(ctx, memprovider.NewInMemoryProvider(defs)); err != nil {
		tb.Fatal(err)
	}
	// The default 200ms evaluation deadline is about a provider that
	// hangs. 100 clients on two cores can delay the evaluating goroutine
	// past it, which fails closed (a refusal, audited); the soak counts
	// outcomes exactly, so it gives the in-memory provider more time.
	return must(flags.NewGate(api.NewClient(), flags.WithTimeout(5*time.Second))), func() { _ = api.Shutdown(ctx) }
}

// newStack builds and serves a stack. Call its close (the soak test needs
// the teardown before its leak check); faults tests use t.Cleanup.
func newStack(tb testing.TB, cfg stackConfig) *stack {
	tb.Helper()
	st := &stack{auditPath: cfg.auditPath, runs: map[string]*atomic.Int64{}}
	if st.auditPath == "" {
		st.auditPath = filepath.Join(tb.TempDir(), "audit.jsonl")
	}
	for _, n := range []string{"get_item", "send_payment", "purge_items"} {
		st.runs[n] = &atomic.Int64{}
	}
	var closers []func()
	var once sync.Once
	st.close = func() {
		once.Do(func() {
			st.mu.Lock()
			sessions := st.sessions
			st.mu.Unlock()
			for _, c := range sessions {
				c()
			}
			for i := len(closers) - 1; i >= 0; i-- {
				closers[i]()
			}
		})
	}
	// The key sits next to the file, as the example servers keep it, so
	// that records() verifies a stack's file and a server process's alike.
	keys, _, err := audit.LoadOrCreateKeyFile(st.auditPath + ".key")
	if err != nil {
		tb.Fatal(err)
	}
	file, err := audit.Open(st.auditPath, audit.WithKeyring(keys))
	if err != nil {
		tb.Fatal(err)
	}
	closers = append(closers, func() { _ = file.Close(context.Background()) })
	var sink audit.Sink = file
	if cfg.wrap != nil {
		sink = cfg.wrap(file)
	}
	st.auditor = must(audit.New(sink, cfg.auditOpts...))
	closers = append(closers, func() { _ = st.auditor.Close(context.Background()) })
	if cfg.gate == nil {
		g, stop := memoryFlags(tb)
		cfg.gate = g
		closers = append(closers, stop)
	}
	if cfg.approver == nil {
		cfg.approver = approveEven()
	}
	srv, err := mcpkit.NewServer(&mcp.Implementation{Name: "reliability", Version: "1.0.0"},
		mcpkit.WithMiddleware(st.auditor.Middleware()),
		mcpkit.WithGates(cfg.gate, mcpkit.ScopeGate()),
		mcpkit.WithInnerMiddleware(approval.MustNew(cfg.approver)))
	if err != nil {
		tb.Fatal(err)
	}
	err = errors.Join(
		mcpkit.AddTool(srv, mcpkit.Tool{Name: "get_item", Description: "Get an item.",
			Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Scopes: []string{"items:read"}}},
			func(_ context.Context, in getIn) (item, error) {
				st.runs["get_item"].Add(1)
				return item{ID: in.ID, Name: "item " + in.ID}, nil
			}),
		mcpkit.AddTool(srv, mcpkit.Tool{Name: "send_payment", Description: "Send a payment.",
			Policy: mcpkit.Policy{Risk: mcpkit.Write, Scopes: []string{"items:write"},
				Approval: mcpkit.ApprovalWhen("amount > 100", func(in transferIn) bool { return in.Amount > 100 })}},
			func(_ context.Context, in transferIn) (transferOut, error) {
				st.runs["send_payment"].Add(1)
				return transferOut{Reference: fmt.Sprintf("T-%s-%d", in.To, in.Amount)}, nil
			}),
		mcpkit.AddTool(srv, mcpkit.Tool{Name: "purge_items", Description: "Purge old items.",
			Policy: mcpkit.Policy{Risk: mcpkit.Destructive, Scopes: []string{"items:write"}}},
			func(context.Context, purgeIn) (purgeOut, error) {
				st.runs["purge_items"].Add(1)
				return purgeOut{}, nil
			}),
	)
	if err != nil {
		tb.Fatal(err)
	}
	if cfg.auth == nil {
		tokens, err := transport.ParseStaticTokens([]byte(tokensJSON))
		if err != nil {
			tb.Fatal(err)
		}
		cfg.auth = tokens
	}
	h, err := transport.NewHandler(srv, transport.WithAuthenticator(cfg.auth),
		transport.WithRejectHook(func(r *http.Request, rej transport.Rejection) {
			// The wiring of examples/incidents: refusals are on the record.
			st.refusals.Add(1)
			_ = st.auditor.Refused(r.Context(), audit.Refusal{Server: srv.Implementation(), Status: rej.Status,
				Reason: rej.Reason, Tool: rej.Tool, Identity: rej.Identity, Scope: len(rej.Missing) > 0, Network: rej.Network})
		}))
	if err != nil {
		tb.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	if cfg.mux != nil {
		cfg.mux(mux)
	}
	ts := httptest.NewServer(mux)
	st.url = ts.URL
	// The HTTP server goes before the sinks it writes to. A stream a
	// client left open would keep Close waiting: cut it.
	closers = append(closers, func() { ts.CloseClientConnections(); ts.Close() })
	return st
}

// httpClient returns a client whose requests carry token, on its own
// transport so that the caller can close its idle connections. refused,
// if not nil, counts the answers that are transport refusals (401, 403,
// 413, 503) as the client saw them.
func httpClient(token string, conns int, refused *atomic.Int64) (*http.Client, *http.Transport) {
	tr := &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns}
	return &http.Client{Transport: bearer{token: token, next: tr, refused: refused}}, tr
}

type bearer struct {
	token   string
	next    http.RoundTripper
	refused *atomic.Int64
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	resp, err := b.next.RoundTrip(r)
	if err == nil && b.refused != nil {
		switch resp.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden, http.StatusRequestEntityTooLarge, http.StatusServiceUnavailable:
			b.refused.Add(1)
		}
	}
	return resp, err
}

// connect opens a go-sdk client session on url's MCP endpoint.
func connect(ctx context.Context, url string, hc *http.Client) (*mcp.ClientSession, error) {
	return mcp.NewClient(&mcp.Implementation{Name: "reliability-client", Version: "1.0.0"}, nil).
		Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url + "/mcp", HTTPClient: hc}, nil)
}

// session connects with token and closes the session and the connections
// at cleanup.
func (st *stack) session(t *testing.T, token string) *mcp.ClientSession {
	t.Helper()
	hc, tr := httpClient(token, 4, nil)
	cs, err := connect(context.Background(), st.url, hc)
	if err != nil {
		t.Fatal(err)
	}
	closeSession := sync.OnceFunc(func() { _ = cs.Close(); tr.CloseIdleConnections() })
	st.mu.Lock()
	st.sessions = append(st.sessions, closeSession)
	st.mu.Unlock()
	t.Cleanup(closeSession)
	return cs
}

// records reads the audit chain at path (rotated files first), verifies
// it, and returns the final records and the write-ahead ones.
func records(tb testing.TB, path string) (final, start []audit.Record) {
	tb.Helper()
	rot, err := audit.RotatedFiles(path)
	if err != nil {
		tb.Fatal(err)
	}
	files := append(rot, path)
	keys, err := audit.ReadKeyFile(path + ".key")
	if err != nil {
		tb.Fatal(err)
	}
	res, err := audit.Verify(keys, files...)
	if err != nil {
		tb.Fatalf("audit chain: %v", err)
	}
	for _, p := range files {
		f, err := os.Open(p)
		if err != nil {
			tb.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			var r audit.Record
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				tb.Fatal(err)
			}
			if r.Kind != "" {
				continue // the log's genesis and checkpoint lines
			}
			if r.Phase == audit.PhaseStart {
				start = append(start, r)
			} else {
				final = append(final, r)
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			tb.Fatal(err)
		}
	}
	if len(final)+len(start) != res.Calls {
		tb.Fatalf("read %d records, the verifier counted %d", len(final)+len(start), res.Calls)
	}
	return final, start
}

// kind names a record the way the soak clients name the calls they make:
// tool/outcome, plus the approval decision when there was one.
func kind(r audit.Record) string {
	k := r.Tool + "/" + r.Outcome
	if r.Approval != nil {
		k += "/" + r.Approval.Decision
	}
	return k
}

// must returns v, panicking on err: for building values from options a
// test knows to be valid (constructors return their errors).
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
