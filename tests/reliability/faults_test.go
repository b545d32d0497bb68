package reliability

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/open-feature/go-sdk/openfeature"
	"github.com/open-feature/go-sdk/openfeature/isolated"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/flags"
	"github.com/mcpkit-go/mcpkit/flags/flagdfile"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
	"github.com/mcpkit-go/mcpkit/transport"
)

// faultSink fails every write while a fault is set, like a disk that
// returns I/O errors, and passes writes on otherwise.
type faultSink struct {
	next  audit.Sink
	fault atomic.Pointer[error]
}

func (f *faultSink) Write(ctx context.Context, r *audit.Record) error {
	if err := f.fault.Load(); err != nil {
		return *err
	}
	return f.next.Write(ctx, r)
}

func (f *faultSink) set(err error) {
	if err == nil {
		f.fault.Store(nil)
		return
	}
	f.fault.Store(&err)
}

func call(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any) *mcp.CallToolResult {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	require.NoError(t, err)
	return res
}

func TestAuditWriteErrorsRefuseRiskyCallsAndRecover(t *testing.T) {
	for _, tc := range []struct {
		name     string
		opts     []audit.Option
		readOnly func(t *testing.T, res *mcp.CallToolResult)
	}{
		{"default: read-only results withheld", nil, func(t *testing.T, res *mcp.CallToolResult) {
			assert.True(t, res.IsError)
			assert.Contains(t, mcpkittest.Text(res), "the result was withheld because the audit log cannot record the call")
		}},
		{"fail-open read-only", []audit.Option{audit.WithFailOpenReadOnly()}, func(t *testing.T, res *mcp.CallToolResult) {
			assert.False(t, res.IsError, mcpkittest.Text(res))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := &faultSink{}
			st := newStack(t, stackConfig{auditOpts: tc.opts, wrap: func(s audit.Sink) audit.Sink { fs.next = s; return fs }})
			t.Cleanup(st.close)
			cs := st.session(t, aliceToken)

			fs.set(errors.New("write audit.jsonl: input/output error"))
			res := call(t, cs, "send_payment", map[string]any{"to": "acct", "amount": 50})
			assert.True(t, res.IsError)
			assert.Contains(t, mcpkittest.Text(res), "tool send_payment was not run: the audit log cannot record the call right now")
			assert.Zero(t, st.runs["send_payment"].Load(), "a write tool never runs unaudited")
			tc.readOnly(t, call(t, cs, "get_item", map[string]any{"id": "I-001"}))
			// start + final of the write call, final of the read.
			assert.EqualValues(t, 3, st.auditor.Unwritten())

			fs.set(nil)
			res = call(t, cs, "send_payment", map[string]any{"to": "acct", "amount": 50})
			assert.False(t, res.IsError, mcpkittest.Text(res))
			assert.False(t, call(t, cs, "get_item", map[string]any{"id": "I-001"}).IsError)
			assert.EqualValues(t, 1, st.runs["send_payment"].Load())

			st.close()
			final, starts := records(t, st.auditPath)
			require.Len(t, final, 2, "the calls after the fault cleared")
			assert.Len(t, starts, 1)
			for _, r := range final {
				assert.Equal(t, "ok", r.Outcome)
			}
		})
	}
}

// TestHelperProcess is the child of the disk-full test; it does nothing in
// a normal run.
func TestHelperProcess(t *testing.T) {
	if os.Getenv("RELIABILITY_HELPER") != "disk-full" {
		t.Skip("helper process only")
	}
	// The audit file may not grow past the limit: writes fail with EFBIG,
	// as on a full disk, until the limit is raised.
	signal.Ignore(syscall.SIGXFSZ)
	var lim syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_FSIZE, &lim))
	st := newStack(t, stackConfig{auditPath: os.Getenv("RELIABILITY_AUDIT")})
	cs := st.session(t, aliceToken)
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: 24 << 10, Max: lim.Max}))
	var out struct {
		OKBefore, Refused, OKAfter int
		Runs                       int64
		Message                    string
	}
	pay := func() *mcp.CallToolResult {
		return call(t, cs, "send_payment", map[string]any{"to": "acct", "amount": 50})
	}
	for range 500 {
		res := pay()
		if !res.IsError {
			out.OKBefore++
			continue
		}
		out.Refused++
		out.Message = mcpkittest.Text(res)
		break
	}
	for range 4 { // the disk stays full: every call is refused
		if pay().IsError {
			out.Refused++
		}
	}
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim)) // space freed
	for range 5 {
		if !pay().IsError {
			out.OKAfter++
		}
	}
	out.Runs = st.runs["send_payment"].Load()
	_ = cs.Close()
	st.close()
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
}

func TestAuditDiskFullRefusesWritesAndRecovers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "RELIABILITY_HELPER=disk-full", "RELIABILITY_AUDIT="+path)
	b, err := cmd.Output()
	require.NoError(t, err, string(b))
	var out struct {
		OKBefore, Refused, OKAfter int
		Runs                       int64
		Message                    string
	}
	line := strings.TrimSpace(string(b))
	line = line[strings.LastIndex(line, "{"):]
	line = line[:strings.Index(line, "}")+1]
	require.NoError(t, json.Unmarshal([]byte(line), &out), string(b))
	t.Logf("disk full: %+v", out)
	assert.Greater(t, out.OKBefore, 5, "calls succeed until the disk fills")
	assert.Equal(t, 5, out.Refused, "every call is refused while the disk is full")
	assert.Contains(t, out.Message, "the audit log cannot record the call right now")
	assert.Equal(t, 5, out.OKAfter, "calls succeed again once there is space")
	assert.EqualValues(t, out.OKBefore+out.OKAfter, out.Runs, "the tool ran only for audited calls")
	final, starts := records(t, path)
	// Write-ahead: every call that ran has its start record, written
	// before the tool ran. The one call in flight when the disk filled may
	// lack its final record (the tool had already acted; the record went to
	// the error log instead); no other may.
	assert.Len(t, starts, int(out.Runs), "a start record for every call that ran, the chain intact")
	assert.LessOrEqual(t, len(final), int(out.Runs))
	assert.GreaterOrEqual(t, len(final), int(out.Runs)-1, "at most the call in flight when the disk filled lacks its final record")
}

func writeFlags(t *testing.T, path string, states map[string]string) {
	t.Helper()
	fl := map[string]any{}
	for tool, variant := range states {
		fl["tool."+tool] = map[string]any{"state": "ENABLED", "variants": map[string]any{"on": true, "off": false}, "defaultVariant": variant}
	}
	b, err := json.Marshal(map[string]any{"flags": fl})
	require.NoError(t, err)
	// Written beside and renamed over, as config management does.
	tmp := path + ".tmp"
	require.NoError(t, os.WriteFile(tmp, b, 0o600))
	require.NoError(t, os.Rename(tmp, path))
}

func TestCorruptFlagFileKeepsLastGoodConfig(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "flags.json")
	writeFlags(t, path, map[string]string{"get_item": "on", "send_payment": "on", "purge_items": "off"})
	api := isolated.NewAPI()
	require.NoError(t, api.SetProviderAndWait(ctx, flagdfile.MustNew(path, flagdfile.WithDebounce(20*time.Millisecond))))
	t.Cleanup(func() { _ = api.Shutdown(ctx) })
	events := make(chan openfeature.EventType, 16)
	onError := func(openfeature.EventDetails) { events <- openfeature.ProviderError }
	onChange := func(openfeature.EventDetails) { events <- openfeature.ProviderConfigChange }
	api.AddHandler(openfeature.ProviderError, &onError)
	api.AddHandler(openfeature.ProviderConfigChange, &onChange)
	// Registered while the provider is READY, this handler runs at once;
	// the recovery below is its second run.
	ready := make(chan struct{}, 16)
	onReady := func(openfeature.EventDetails) { ready <- struct{}{} }
	api.AddHandler(openfeature.ProviderReady, &onReady)
	client := api.NewClient()
	st := newStack(t, stackConfig{gate: must(flags.NewGate(client, flags.WithTimeout(5*time.Second)))})
	t.Cleanup(st.close)
	cs := st.session(t, aliceToken)
	wait := func(want openfeature.EventType) {
		t.Helper()
		select {
		case got := <-events:
			require.Equal(t, want, got)
		case <-time.After(10 * time.Second):
			t.Fatalf("no %s event", want)
		}
	}
	state := func() (visible []string, payOK, purgeOK bool) {
		res, err := cs.ListTools(ctx, nil)
		require.NoError(t, err)
		for _, tool := range res.Tools {
			visible = append(visible, tool.Name)
		}
		return visible, !call(t, cs, "send_payment", map[string]any{"to": "a", "amount": 5}).IsError,
			!call(t, cs, "purge_items", map[string]any{"before": "x"}).IsError
	}
	visible, payOK, purgeOK := state()
	assert.ElementsMatch(t, []string{"get_item", "send_payment"}, visible)
	require.True(t, payOK)
	require.False(t, purgeOK)

	for _, garbage := range []string{`{"flags": {"tool.send_payment": `, "\x00\xff garbage", `{"flags": {"tool.send_payment": {"state": "ENABLED", "variants": {"on": true}, "defaultVariant": "off"}}}`} {
		require.NoError(t, os.WriteFile(path, []byte(garbage), 0o600))
		wait(openfeature.ProviderError)
		v, pay, purge := state()
		assert.ElementsMatch(t, visible, v, "tools/list unchanged by %q", garbage)
		assert.True(t, pay, "send_payment stays on after %q", garbage)
		assert.False(t, purge, "purge_items stays off after %q", garbage)
	}

	require.Eventually(t, func() bool { return client.State() == openfeature.ErrorState }, 5*time.Second, 10*time.Millisecond)

	// A good file applies again: the reload path was live all along, and
	// the provider reports that it recovered.
	for len(ready) > 0 {
		<-ready
	}
	writeFlags(t, path, map[string]string{"get_item": "on", "send_payment": "off", "purge_items": "off"})
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("no PROVIDER_READY event after the file was fixed")
	}
	require.Eventually(t, func() bool { return client.State() == openfeature.ReadyState }, 5*time.Second, 10*time.Millisecond)
	v, pay, _ := state()
	assert.ElementsMatch(t, []string{"get_item"}, v)
	assert.False(t, pay)
}

const jwtAudience = "https://mcp.reliability.test/mcp"

func TestJWKSDownKeepsCachedKeysAndRefusesUnknownKids(t *testing.T) {
	newKey := func(kid string) (priv, pub jwk.Key) {
		raw, err := rsa.GenerateKey(rand.Reader, 2048)
		require.NoError(t, err)
		priv, err = jwk.Import(raw)
		require.NoError(t, err)
		require.NoError(t, priv.Set(jwk.KeyIDKey, kid))
		pub, err = priv.PublicKey()
		require.NoError(t, err)
		return priv, pub
	}
	priv, pub := newKey("rsa-1")
	rotated, _ := newKey("rsa-2")
	set := jwk.NewSet()
	require.NoError(t, set.AddKey(pub))
	var fetches atomic.Int64
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	}))
	keys := must(transport.NewRemoteJWKS(jwks.URL, transport.WithJWKSMinRefresh(time.Millisecond)))
	require.NoError(t, keys.Refresh(context.Background()))
	a, err := transport.NewJWTAuthenticator(transport.JWTConfig{Keys: keys, Issuer: "https://idp.reliability.test", Audience: jwtAudience})
	require.NoError(t, err)
	st := newStack(t, stackConfig{auth: a})
	t.Cleanup(st.close)
	token := func(k jwk.Key, sub string) string {
		tok := jwt.New()
		for c, v := range map[string]any{"iss": "https://idp.reliability.test", "aud": jwtAudience, "sub": sub,
			"scope": "items:read", "exp": time.Now().Add(time.Hour).Unix()} {
			require.NoError(t, tok.Set(c, v))
		}
		b, err := jwt.Sign(tok, jwt.WithKey(jwa.RS256(), k))
		require.NoError(t, err)
		return string(b)
	}
	get := func(cs *mcp.ClientSession) {
		t.Helper()
		res := call(t, cs, "get_item", map[string]any{"id": "I-007"})
		assert.False(t, res.IsError, mcpkittest.Text(res))
	}
	get(st.session(t, token(priv, "dana")))

	jwks.Close() // the issuer's JWKS endpoint goes down
	get(st.session(t, token(priv, "erin")))

	// A token under a kid the cache does not hold: the refresh fails, the
	// token is refused (401, audited) and never let through.
	hc, tr := httpClient(token(rotated, "mallory"), 2, nil)
	defer tr.CloseIdleConnections()
	_, err = connect(context.Background(), st.url, hc)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Unauthorized")
	assert.EqualValues(t, 1, fetches.Load(), "the only successful fetch was the first")

	st.close()
	final, _ := records(t, st.auditPath)
	var subjects, unauth []string
	for _, r := range final {
		if r.Outcome == audit.OutcomeUnauthenticated {
			unauth = append(unauth, r.Error)
			continue
		}
		subjects = append(subjects, r.Principal.Subject+"/"+r.Outcome)
	}
	assert.Equal(t, []string{"dana/ok", "erin/ok"}, subjects)
	require.NotEmpty(t, unauth)
	assert.EqualValues(t, len(unauth), st.refusals.Load())
	assert.Contains(t, unauth[0], `kid "rsa-2"`, "the refusal names the kid the cache lacks")
}

// flakyStore is the console's store with a switch that makes every method
// fail, like a database that is down.
type flakyStore struct {
	*approval.MemoryStore
	down atomic.Bool
}

var errStoreDown = errors.New("approval store: connection refused")

func (s *flakyStore) Add(ctx context.Context, r approval.Request) error {
	if s.down.Load() {
		return errStoreDown
	}
	return s.MemoryStore.Add(ctx, r)
}

func (s *flakyStore) Get(ctx context.Context, id string) (approval.Request, error) {
	if s.down.Load() {
		return approval.Request{}, errStoreDown
	}
	return s.MemoryStore.Get(ctx, id)
}

func (s *flakyStore) List(ctx context.Context) ([]approval.Request, error) {
	if s.down.Load() {
		return nil, errStoreDown
	}
	return s.MemoryStore.List(ctx)
}

func (s *flakyStore) Remove(ctx context.Context, id string) error {
	if s.down.Load() {
		return errStoreDown
	}
	return s.MemoryStore.Remove(ctx, id)
}

func TestApprovalStoreFailingDenies(t *testing.T) {
	const reviewerToken = "reviewer-reliability-0123456789"
	store := &flakyStore{MemoryStore: approval.NewMemoryStore()}
	console, err := approval.NewConsole(context.Background(), approval.ConsoleConfig{Store: store,
		Reviewers: approval.ReviewerRule{Scopes: []string{"payments:approve"}},
		Authenticate: func(r *http.Request) (mcpkit.Identity, error) {
			if r.Header.Get("Authorization") != "Bearer "+reviewerToken {
				return mcpkit.Identity{}, errors.New("not a reviewer")
			}
			return mcpkit.Identity{Subject: "carol", Scopes: []string{"payments:approve"}}, nil
		}})
	require.NoError(t, err)
	st := newStack(t, stackConfig{approver: console, mux: func(m *http.ServeMux) {
		m.Handle("/approvals/", http.StripPrefix("/approvals", console))
	}})
	t.Cleanup(st.close)
	cs := st.session(t, aliceToken)
	reviewer, tr := httpClient(reviewerToken, 2, nil)
	defer tr.CloseIdleConnections()

	// Store up: a reviewer sees the request and approves it.
	done := make(chan *mcp.CallToolResult, 1)
	go func() {
		res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "send_payment", Arguments: map[string]any{"to": "acct", "amount": 500}})
		if err != nil {
			res = &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: err.Error()}}}
		}
		done <- res
	}()
	var id string
	require.Eventually(t, func() bool {
		resp, err := reviewer.Get(st.url + "/approvals/api/pending")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var list struct {
			Pending []approval.Request `json:"pending"`
		}
		if json.NewDecoder(resp.Body).Decode(&list) != nil || len(list.Pending) == 0 {
			return false
		}
		id = list.Pending[0].ID
		return true
	}, 10*time.Second, 10*time.Millisecond)
	resp, err := reviewer.Post(st.url+"/approvals/api/pending/"+id+"/approve", "application/json", strings.NewReader(`{"reason":"ok"}`))
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	res := <-done
	require.False(t, res.IsError, mcpkittest.Text(res))

	// Store down: the call is refused at once, never run; the console
	// answers 503 rather than an empty list.
	store.down.Store(true)
	res = call(t, cs, "send_payment", map[string]any{"to": "acct", "amount": 502})
	assert.True(t, res.IsError)
	assert.Contains(t, mcpkittest.Text(res), "send_payment")
	assert.EqualValues(t, 1, st.runs["send_payment"].Load())
	resp, err = reviewer.Get(st.url + "/approvals/api/pending")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)

	st.close()
	final, _ := records(t, st.auditPath)
	require.Len(t, final, 2)
	assert.Equal(t, "send_payment/ok/approved", kind(final[0]))
	assert.Equal(t, "send_payment/denied_approval/unavailable", kind(final[1]))
	assert.Equal(t, "carol", final[0].Approval.Approver)
}
