package fleet

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/internal/pgtest"
)

// The callers of the fleet's static-token file: carol deletes incidents,
// rev1 and rev2 approve them in the console, alice and bob only read.
const (
	carolToken = "fleet-carol-0123456789abcdef"
	rev1Token  = "fleet-rev1-0123456789abcdef"
	rev2Token  = "fleet-rev2-0123456789abcdef"
	aliceToken = "fleet-alice-0123456789abcdef"
	bobToken   = "fleet-bob-0123456789abcdef0"

	tokensJSON = `{
  "` + carolToken + `": {"sub": "carol", "scopes": ["incidents:read", "incidents:write", "incidents:admin"]},
  "` + rev1Token + `": {"sub": "rev1", "scopes": ["incidents:read", "incidents:write", "incidents:admin", "incidents:approve"]},
  "` + rev2Token + `": {"sub": "rev2", "scopes": ["incidents:read", "incidents:write", "incidents:admin", "incidents:approve"]},
  "` + aliceToken + `": {"sub": "alice", "scopes": ["incidents:read"]},
  "` + bobToken + `": {"sub": "bob", "scopes": ["incidents:read"]}
}`

	// approvalKeys is the fleet's shared approval key (32 bytes).
	approvalKeys = "fleet-1:ZmxlZXQtYXBwcm92YWwta2V5LTAxMjM0NTY3ODlhYmM="

	// rateSpec is the fleet's limit: 10 read-only calls a second per
	// caller with a burst of 1, so that no second grants more than 11.
	rateSpec = "read_only=10/s+1"
)

// replica is one incidents server process.
type replica struct {
	id        string
	httpAddr  string
	console   string // base URL of its approval console
	auditPath string
	args      []string
	env       []string

	mu     sync.Mutex
	cmd    *exec.Cmd
	logs   bytes.Buffer
	exited chan struct{}
}

func (r *replica) url() string { return "http://" + r.httpAddr }

// log is what the process wrote to stderr so far.
func (r *replica) log() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.logs.String()
}

func (r *replica) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.logs.Write(p)
}

// start runs the process and waits until it answers /healthz.
func (r *replica) start(t *testing.T, bin string) {
	t.Helper()
	require.NoError(t, r.launch(bin))
	r.ready(t)
}

// launch runs the process without waiting for it.
func (r *replica) launch(bin string) error {
	cmd := exec.Command(bin, r.args...)
	cmd.Env = append(os.Environ(), r.env...)
	cmd.Stderr = r
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	r.mu.Lock()
	r.cmd, r.exited = cmd, exited
	r.mu.Unlock()
	return nil
}

// ready waits until the launched process answers /healthz.
func (r *replica) ready(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	cmd, exited := r.cmd, r.exited
	r.mu.Unlock()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			t.Fatalf("replica %s exited at start:\n%s", r.id, r.log())
		default:
		}
		resp, err := http.Get(r.url() + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	t.Fatalf("replica %s did not become healthy:\n%s", r.id, r.log())
}

// stop asks the process to stop (SIGTERM) and waits for it: the audit
// file is flushed and its refusal summaries written.
func (r *replica) stop(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	cmd, exited := r.cmd, r.exited
	r.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-exited:
		return
	default:
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		t.Errorf("replica %s did not stop within 20 s of SIGTERM", r.id)
	}
}

// hop is one request the proxy forwarded.
type hop struct {
	backend int
	method  string // JSON-RPC method
	tool    string
	reason  string // arguments.reason, which names the call
	state   bool   // carries a requestState: an answering round
	header  http.Header
	body    []byte
}

// proxy is the fleet's load balancer: round robin over the replicas, no
// stickiness. It remembers every MCP request it forwarded.
type proxy struct {
	srv      *http.Server
	url      string
	backends []*url.URL
	rp       *httputil.ReverseProxy

	mu   sync.Mutex
	next int
	hops []hop
}

type backendKey struct{}

func newProxy(t *testing.T, backends []string) *proxy {
	t.Helper()
	p := &proxy{}
	for _, b := range backends {
		u, err := url.Parse(b)
		require.NoError(t, err)
		p.backends = append(p.backends, u)
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(pr.In.Context().Value(backendKey{}).(*url.URL))
		},
		// A replica that is down is the client's 502, not the test's
		// log noise.
		ErrorLog: nil,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, "bad gateway: "+err.Error(), http.StatusBadGateway)
		},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p.url = "http://" + ln.Addr().String()
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()
	t.Cleanup(func() { _ = p.srv.Close() })
	return p
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	p.mu.Lock()
	i := p.next % len(p.backends)
	p.next++
	p.mu.Unlock()
	h := hop{backend: i, header: r.Header.Clone(), body: body}
	var msg struct {
		Method string `json:"method"`
		Params struct {
			Name         string          `json:"name"`
			Arguments    json.RawMessage `json:"arguments"`
			RequestState string          `json:"requestState"`
		} `json:"params"`
	}
	if json.Unmarshal(body, &msg) == nil {
		h.method, h.tool, h.state = msg.Method, msg.Params.Name, msg.Params.RequestState != ""
		var args struct {
			Reason string `json:"reason"`
		}
		_ = json.Unmarshal(msg.Params.Arguments, &args)
		h.reason = args.Reason
	}
	// Recorded before it is forwarded: the client may send its next
	// request as soon as this one's answer arrives.
	p.mu.Lock()
	p.hops = append(p.hops, h)
	p.mu.Unlock()
	p.rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), backendKey{}, p.backends[i])))
}

// calls returns the tools/call hops that carry reason, in order.
func (p *proxy) calls(reason string) []hop {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []hop
	for _, h := range p.hops {
		if h.method == "tools/call" && h.reason == reason {
			out = append(out, h)
		}
	}
	return out
}

// lastCall returns the last tools/call hop to tool.
func (p *proxy) lastCall(tool string) (hop, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.hops) - 1; i >= 0; i-- {
		if h := p.hops[i]; h.method == "tools/call" && h.tool == tool {
			return h, true
		}
	}
	return hop{}, false
}

// bearer adds a token to every request.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// client connects a go-sdk client (protocol 2026-07-28 over HTTP, the
// default) to endpoint as the token's subject. With approve set, it
// confirms every approval prompt in the client; without it, the client
// cannot elicit and approval falls back to the console.
func client(t *testing.T, endpoint, token string, approve bool) *mcp.ClientSession {
	t.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: 4}
	t.Cleanup(tr.CloseIdleConnections)
	opts := &mcp.ClientOptions{}
	if approve {
		opts.ElicitationHandler = func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"confirm": true, "reason": "fleet test"}}, nil
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "fleet-test", Version: "1.0.0"}, opts).Connect(ctx,
		&mcp.StreamableClientTransport{Endpoint: endpoint + "/mcp", HTTPClient: &http.Client{Transport: bearer{token, tr}}, MaxRetries: -1}, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

// text is the text of a tool result.
func text(res *mcp.CallToolResult) string {
	if res == nil {
		return ""
	}
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// post sends body to url with header (a recorded request replayed as is)
// and returns the status and the body; a transport error is status 0.
func post(hc *http.Client, url string, header http.Header, body []byte) (int, []byte) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, []byte(err.Error())
	}
	req.Header = header.Clone()
	resp, err := hc.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b
}

// toolResult reads the CallToolResult out of a JSON or SSE response body.
func toolResult(body []byte) (isError bool, text string, ok bool) {
	for _, line := range bytes.Split(body, []byte("\n")) {
		line = bytes.TrimPrefix(bytes.TrimSpace(line), []byte("data:"))
		var msg struct {
			Result *struct {
				IsError bool `json:"isError"`
				Content []struct {
					Text string `json:"text"`
				} `json:"content"`
			} `json:"result"`
		}
		if json.Unmarshal(bytes.TrimSpace(line), &msg) == nil && msg.Result != nil {
			var b strings.Builder
			for _, c := range msg.Result.Content {
				b.WriteString(c.Text)
			}
			return msg.Result.IsError, b.String(), true
		}
	}
	return false, "", false
}

// buildExample builds examples/incidents into dir, in the background:
// the result tells the binary's path or why the build failed.
func buildExample(dir string) <-chan error {
	done := make(chan error, 1)
	go func() {
		out, err := exec.Command("go", "build", "-o", filepath.Join(dir, "incidents"), "../../examples/incidents").CombinedOutput()
		if err != nil {
			err = fmt.Errorf("go build examples/incidents: %v\n%s", err, out)
		}
		done <- err
	}()
	return done
}

// database creates the fleet's database as the runbook does: an owner
// role that migrates the schema, and a least-privilege replica role. It
// returns both URLs.
func database(t *testing.T, c *pgtest.Cluster) (owner, replica string) {
	t.Helper()
	ctx := context.Background()
	ownerPW, replicaPW := pgtest.Password(), pgtest.Password()
	for _, sql := range []string{
		fmt.Sprintf("CREATE ROLE incidents_owner LOGIN PASSWORD '%s'", ownerPW),
		fmt.Sprintf("CREATE ROLE incidents_replica LOGIN PASSWORD '%s'", replicaPW),
		"CREATE DATABASE incidents_fleet OWNER incidents_owner",
	} {
		require.NoError(t, c.Exec(ctx, "postgres", sql))
	}
	return c.URL("incidents_owner", ownerPW, "incidents_fleet"), c.URL("incidents_replica", replicaPW, "incidents_fleet")
}

// grantReplica runs pgstate's role.sql for the replica role, as the
// runbook says to after the schema is migrated.
func grantReplica(t *testing.T, c *pgtest.Cluster) {
	t.Helper()
	b, err := os.ReadFile("../../pgstate/role.sql")
	require.NoError(t, err)
	sql := strings.NewReplacer("{{schema}}", "mcpkit", "{{role}}", "incidents_replica").Replace(string(b))
	out, err := c.Psql(context.Background(), "incidents_fleet", "-c", sql)
	require.NoError(t, err, string(out))
}

// records reads the call records of an audit file written so far (a last
// line still being written is left out), without the log's own lines.
func records(t *testing.T, path string) []audit.Record {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []audit.Record
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var r audit.Record
		if json.Unmarshal(sc.Bytes(), &r) != nil || r.Kind != "" {
			continue
		}
		out = append(out, r)
	}
	require.NoError(t, sc.Err())
	return out
}

// reasonOf is the reason argument of a delete_incident record.
func reasonOf(r audit.Record) string {
	var args struct {
		Reason string `json:"reason"`
	}
	_ = json.Unmarshal(r.Arguments, &args)
	return args.Reason
}

// ran reports whether a final record says the handler ran: it returned a
// result or the tool's own error.
func ran(r audit.Record) bool {
	return r.Phase == "" && (r.Outcome == "ok" || r.Outcome == "tool_error")
}
