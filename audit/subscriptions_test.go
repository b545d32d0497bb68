package audit_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
	"github.com/mcpkit-go/mcpkit/transport"
)

// subscribeCounter is a team's SubscribeHandler and UnsubscribeHandler,
// counting the subscriptions and unsubscriptions that reached them.
type subscribeCounter struct {
	mu    sync.Mutex
	subs  []string
	unsub []string
}

func (s *subscribeCounter) options() *mcp.ServerOptions {
	return &mcp.ServerOptions{
		SubscribeHandler: func(_ context.Context, r *mcp.SubscribeRequest) error {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.subs = append(s.subs, r.Params.URI)
			return nil
		},
		UnsubscribeHandler: func(_ context.Context, r *mcp.UnsubscribeRequest) error {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.unsub = append(s.unsub, r.Params.URI)
			return nil
		},
	}
}

func (s *subscribeCounter) subscribed() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.subs...)
}

func (s *subscribeCounter) unsubscribed() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.unsub...)
}

// updates collects the notifications/resources/updated a client receives.
type updates struct{ ch chan string }

func newUpdates() *updates { return &updates{ch: make(chan string, 16)} }

func (u *updates) clientOptions() *mcp.ClientOptions {
	return &mcp.ClientOptions{ResourceUpdatedHandler: func(_ context.Context, r *mcp.ResourceUpdatedNotificationRequest) {
		u.ch <- r.Params.URI
	}}
}

// arrives waits for one update of uri.
func (u *updates) arrives(t *testing.T, uri string) {
	t.Helper()
	select {
	case got := <-u.ch:
		assert.Equal(t, uri, got)
	case <-time.After(5 * time.Second):
		t.Fatalf("no notifications/resources/updated for %s arrived", uri)
	}
}

// none asserts that no update arrives within a short wait (the SDK sends
// synchronously from ResourceUpdated; the wait covers the transport).
func (u *updates) none(t *testing.T, why string) {
	t.Helper()
	select {
	case got := <-u.ch:
		t.Fatalf("%s: notifications/resources/updated for %s arrived", why, got)
	case <-time.After(300 * time.Millisecond):
	}
}

// finalsFor returns the final records of operation op.
func finalsFor(f *resourceFixture, op string) []audit.Record {
	var out []audit.Record
	for _, r := range f.sink.finals() {
		if r.Operation == op {
			out = append(out, r)
		}
	}
	return out
}

// TestLegacySubscribeIsDecidedAsAReadAndAudited: with the SDK's subscribe
// handlers turned on (WithServerOptions), a resources/subscribe of a URI
// the caller may not read is refused with the read's words and outcome,
// the team's handler never runs, and the record names the operation and
// the URI; an unknown URI is refused as unknown_resource with the client's
// string redacted; a reader subscribes and hears updates, the stranger
// does not.
func TestLegacySubscribeIsDecidedAsAReadAndAudited(t *testing.T) {
	counter := &subscribeCounter{}
	f := newResourceFixture(t, mcpkit.WithServerOptions(counter.options()))
	ctx := context.Background()
	strangerUpdates, readerUpdates := newUpdates(), newUpdates()
	hs := mcpkittest.NewHarness(t, f.srv, mcpkittest.WithIdentity(stranger), mcpkittest.WithProtocolVersion("2025-11-25"),
		mcpkittest.WithClientOptions(strangerUpdates.clientOptions()))
	hr := mcpkittest.NewHarness(t, f.srv, mcpkittest.WithIdentity(reader), mcpkittest.WithProtocolVersion("2025-11-25"),
		mcpkittest.WithClientOptions(readerUpdates.clientOptions()))

	err := hs.Session.Subscribe(ctx, &mcp.SubscribeParams{URI: "incident://INC-7"})
	we := rpcError(t, err)
	assert.Equal(t, mcpkit.RefusedRPCCode, we.Code)
	assert.Equal(t, "resource incident requires scope incidents:read, which your credentials do not grant", we.Message)
	assert.JSONEq(t, `{"outcome":"denied_scope"}`, string(we.Data))
	assert.Empty(t, counter.subscribed(), "the team's subscribe handler never ran for a caller who may not read the URI")
	rec := f.last(t)
	assert.Equal(t, "resources/subscribe", rec.Operation)
	assert.Equal(t, "incident://INC-7", rec.Target)
	assert.Equal(t, "denied_scope", rec.Outcome)
	assert.Equal(t, "mallory", rec.Principal.Subject)
	assert.Empty(t, rec.Tool)

	// A template variable the read would refuse is refused here too.
	err = hr.Session.Subscribe(ctx, &mcp.SubscribeParams{URI: "incident://..%2Fetc"})
	assert.Equal(t, int64(jsonrpc.CodeInvalidParams), rpcError(t, err).Code)
	assert.Equal(t, "invalid_input", f.last(t).Outcome)

	err = hr.Session.Subscribe(ctx, &mcp.SubscribeParams{URI: "secret://" + plantedSecret})
	we = rpcError(t, err)
	assert.Equal(t, int64(jsonrpc.CodeInvalidParams), we.Code)
	assert.JSONEq(t, `{"outcome":"unknown_resource"}`, string(we.Data))
	rec = f.last(t)
	assert.Equal(t, "unknown_resource", rec.Outcome)
	assert.Equal(t, "resources/subscribe", rec.Operation)
	assert.True(t, strings.HasPrefix(rec.Target, "secret://"), rec.Target)
	b, _ := json.Marshal(rec)
	assert.NotContains(t, string(b), plantedSecret, "the client's string is redacted in the record")
	assert.Empty(t, counter.subscribed())

	err = hr.Session.Subscribe(ctx, &mcp.SubscribeParams{URI: "incident://" + plantedSecret})
	assert.Equal(t, int64(jsonrpc.CodeInvalidParams), rpcError(t, err).Code)
	b, _ = json.Marshal(f.last(t))
	assert.NotContains(t, string(b), plantedSecret, "a registered template's URI is redacted in the record too")
	assert.Empty(t, counter.subscribed())

	require.NoError(t, hr.Session.Subscribe(ctx, &mcp.SubscribeParams{URI: "incident://INC-7"}))
	assert.Equal(t, []string{"incident://INC-7"}, counter.subscribed())
	rec = f.last(t)
	assert.Equal(t, "ok", rec.Outcome)
	assert.Equal(t, "resources/subscribe", rec.Operation)
	assert.Equal(t, "alice", rec.Principal.Subject)

	require.NoError(t, f.srv.MCPServer().ResourceUpdated(ctx, &mcp.ResourceUpdatedNotificationParams{URI: "incident://INC-7"}))
	readerUpdates.arrives(t, "incident://INC-7")
	strangerUpdates.none(t, "the refused subscriber")

	err = hs.Session.Unsubscribe(ctx, &mcp.UnsubscribeParams{URI: "incident://INC-7"})
	assert.Equal(t, mcpkit.RefusedRPCCode, rpcError(t, err).Code, "unsubscribe meets the read's decision too")
	rec = f.last(t)
	assert.Equal(t, "resources/unsubscribe", rec.Operation)
	assert.Equal(t, "incident://INC-7", rec.Target)
	assert.Equal(t, "denied_scope", rec.Outcome)
	assert.Empty(t, counter.unsubscribed())

	require.NoError(t, hr.Session.Unsubscribe(ctx, &mcp.UnsubscribeParams{URI: "incident://INC-7"}))
	assert.Equal(t, []string{"incident://INC-7"}, counter.unsubscribed())
	assert.Equal(t, "resources/unsubscribe", f.last(t).Operation)
	assert.Equal(t, "ok", f.last(t).Outcome)
	require.NoError(t, f.srv.MCPServer().ResourceUpdated(ctx, &mcp.ResourceUpdatedNotificationParams{URI: "incident://INC-7"}))
	readerUpdates.none(t, "after unsubscribing")
	assert.Zero(t, f.runs.Load(), "no read ran")
}

// switchGate refuses the incident resource to the subjects in off.
type switchGate struct {
	mu  sync.Mutex
	off map[string]bool
}

func (g *switchGate) set(subject string, off bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.off[subject] = off
}

func (g *switchGate) Check(_ context.Context, c *mcpkit.Call) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if c.Tool.Name == "incident" && g.off[c.Identity.Subject] {
		return &mcpkit.Error{Code: mcpkit.CodeDeniedFlag, Message: c.Tool.Label() + " is off for you"}
	}
	return nil
}

// TestResourceUpdatedReachesOnlyCallersWhoMayStillRead: the SDK sends
// notifications/resources/updated to every session subscribed to the URI;
// mcpkit asks the gates again for each one when the update is sent, so a
// subscriber a gate turned away after subscribing (a flag flipped off for
// them) hears nothing more, while another subscriber still does, on both
// protocol generations.
func TestResourceUpdatedReachesOnlyCallersWhoMayStillRead(t *testing.T) {
	for _, version := range resourceProtocols {
		t.Run(version, func(t *testing.T) {
			counter := &subscribeCounter{}
			gate := &switchGate{off: map[string]bool{}}
			f := newResourceFixture(t, mcpkit.WithServerOptions(counter.options()), mcpkit.WithGates(gate))
			ctx := context.Background()
			carol := mcpkit.Identity{Subject: "carol", Scopes: []string{"incidents:read"}, AuthMethod: "local"}
			aliceUpdates, carolUpdates := newUpdates(), newUpdates()
			ha := mcpkittest.NewHarness(t, f.srv, mcpkittest.WithIdentity(reader), mcpkittest.WithProtocolVersion(version),
				mcpkittest.WithClientOptions(aliceUpdates.clientOptions()))
			hc := mcpkittest.NewHarness(t, f.srv, mcpkittest.WithIdentity(carol), mcpkittest.WithProtocolVersion(version),
				mcpkittest.WithClientOptions(carolUpdates.clientOptions()))
			require.NoError(t, ha.Session.Subscribe(ctx, &mcp.SubscribeParams{URI: "incident://INC-7"}))
			require.NoError(t, hc.Session.Subscribe(ctx, &mcp.SubscribeParams{URI: "incident://INC-7"}))
			// On 2026-07-28 Subscribe opens a subscriptions/listen stream
			// and returns before the server has taken it.
			require.Eventually(t, func() bool { return len(counter.subscribed()) == 2 }, 5*time.Second, 10*time.Millisecond)

			require.NoError(t, f.srv.MCPServer().ResourceUpdated(ctx, &mcp.ResourceUpdatedNotificationParams{URI: "incident://INC-7"}))
			aliceUpdates.arrives(t, "incident://INC-7")
			carolUpdates.arrives(t, "incident://INC-7")

			gate.set("alice", true)
			require.NoError(t, f.srv.MCPServer().ResourceUpdated(ctx, &mcp.ResourceUpdatedNotificationParams{URI: "incident://INC-7"}))
			carolUpdates.arrives(t, "incident://INC-7")
			aliceUpdates.none(t, "alice may no longer read the resource")
			gate.set("alice", false)
			require.NoError(t, f.srv.MCPServer().ResourceUpdated(ctx, &mcp.ResourceUpdatedNotificationParams{URI: "incident://INC-7"}))
			aliceUpdates.arrives(t, "incident://INC-7")
			carolUpdates.arrives(t, "incident://INC-7")
		})
	}
}

// TestListenSubscriptionIsDecidedAsAReadAndAudited: on 2026-07-28 a
// resource subscription travels in subscriptions/listen, which the SDK
// turns into a call of the team's subscribe handler itself; a URI the
// caller may not read refuses the listen before that, with a record per
// URI (operation subscriptions/listen, the URI as target, redacted when
// unknown), and no update reaches the caller.
func TestListenSubscriptionIsDecidedAsAReadAndAudited(t *testing.T) {
	counter := &subscribeCounter{}
	f := newResourceFixture(t, mcpkit.WithServerOptions(counter.options()))
	ctx := context.Background()
	strangerUpdates := newUpdates()
	hs := mcpkittest.NewHarness(t, f.srv, mcpkittest.WithIdentity(stranger), mcpkittest.WithProtocolVersion("2026-07-28"),
		mcpkittest.WithClientOptions(strangerUpdates.clientOptions()))
	// The go-sdk client does not wait for the listen's answer.
	require.NoError(t, hs.Session.Subscribe(ctx, &mcp.SubscribeParams{URI: "incident://INC-7"}))
	require.NoError(t, hs.Session.Subscribe(ctx, &mcp.SubscribeParams{URI: "secret://" + plantedSecret}))
	require.Eventually(t, func() bool { return len(finalsFor(f, "subscriptions/listen")) == 2 }, 5*time.Second, 10*time.Millisecond)
	recs := finalsFor(f, "subscriptions/listen")
	byOutcome := map[string]audit.Record{}
	for _, r := range recs {
		byOutcome[r.Outcome] = r
	}
	require.Contains(t, byOutcome, "denied_scope")
	assert.Equal(t, "incident://INC-7", byOutcome["denied_scope"].Target)
	assert.Equal(t, "mallory", byOutcome["denied_scope"].Principal.Subject)
	require.Contains(t, byOutcome, "unknown_resource")
	b, _ := json.Marshal(byOutcome["unknown_resource"])
	assert.NotContains(t, string(b), plantedSecret)
	assert.Empty(t, counter.subscribed(), "the team's subscribe handler never ran")
	require.NoError(t, f.srv.MCPServer().ResourceUpdated(ctx, &mcp.ResourceUpdatedNotificationParams{URI: "incident://INC-7"}))
	strangerUpdates.none(t, "the refused listener")
}

// TestListenSubscriptionOverHTTP plays the listen over the streamable
// HTTP handler on 127.0.0.1 with static tokens: the stranger's listen is
// refused (a JSON-RPC error on the wire, the handler not run), the
// reader's is taken and hears the update.
func TestListenSubscriptionOverHTTP(t *testing.T) {
	const readerToken, strangerToken = "tok-reader-0123456789abcdef", "tok-stranger-0123456789abcdef"
	counter := &subscribeCounter{}
	f := newResourceFixture(t, mcpkit.WithServerOptions(counter.options()))
	st, err := transport.ParseStaticTokens([]byte(`{"` + readerToken + `": {"sub": "alice", "scopes": ["incidents:read"]},` +
		`"` + strangerToken + `": {"sub": "mallory", "scopes": ["other:read"]}}`))
	require.NoError(t, err)
	h, err := transport.NewHandler(f.srv, transport.WithAuthenticator(st))
	require.NoError(t, err)
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)

	// The public runbook comes first: one refused URI refuses the whole
	// listen, so not even the runbook is subscribed.
	body := `{"jsonrpc":"2.0","id":9,"method":"subscriptions/listen","params":{"notifications":{"resourceSubscriptions":["docs://runbook","incident://INC-7"]},` +
		`"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}`
	req, err := http.NewRequest(http.MethodPost, ts.URL+"/mcp", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Protocol-Version", "2026-07-28")
	req.Header.Set("Mcp-Method", "subscriptions/listen")
	req.Header.Set("Authorization", "Bearer "+strangerToken)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	require.NoError(t, err)
	raw := readAll(t, resp)
	assert.Contains(t, raw, `"error"`)
	assert.Contains(t, raw, "resource incident requires scope incidents:read")
	assert.NotContains(t, raw, "subscriptions/acknowledged", "a refused listen is never acknowledged")
	assert.Empty(t, counter.subscribed())
	recs := finalsFor(f, "subscriptions/listen")
	require.Len(t, recs, 2, "one record per URI decided")
	assert.Equal(t, "docs://runbook", recs[0].Target)
	assert.Equal(t, "ok", recs[0].Outcome)
	rec := recs[1]
	assert.Equal(t, "incident://INC-7", rec.Target)
	assert.Equal(t, "denied_scope", rec.Outcome)
	assert.Equal(t, "mallory", rec.Principal.Subject)
	assert.Equal(t, "static", rec.Principal.Auth)

	readerUpdates := newUpdates()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "http-client", Version: "1"}, readerUpdates.clientOptions()).Connect(context.Background(),
		&mcp.StreamableClientTransport{Endpoint: ts.URL + "/mcp", HTTPClient: &http.Client{Transport: bearer{readerToken}}},
		&mcp.ClientSessionOptions{ProtocolVersion: "2026-07-28"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = cs.Close() })
	require.NoError(t, cs.Subscribe(context.Background(), &mcp.SubscribeParams{URI: "incident://INC-7"}))
	require.Eventually(t, func() bool { return len(counter.subscribed()) == 1 }, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, f.srv.MCPServer().ResourceUpdated(context.Background(), &mcp.ResourceUpdatedNotificationParams{URI: "incident://INC-7"}))
	readerUpdates.arrives(t, "incident://INC-7")
	assert.Equal(t, "ok", finalsFor(f, "subscriptions/listen")[2].Outcome)
}

// TestSubscribeWithoutHandlersIsMethodNotFound: a server that did not turn
// subscriptions on answers every resources/subscribe with method not
// found (the SDK's answer), never a silent success, and a 2026-07-28
// listen naming a resource is acknowledged without it: no update reaches
// anyone.
func TestSubscribeWithoutHandlersIsMethodNotFound(t *testing.T) {
	f := newResourceFixture(t)
	ctx := context.Background()
	for _, id := range []mcpkit.Identity{reader, stranger} {
		h := mcpkittest.NewHarness(t, f.srv, mcpkittest.WithIdentity(id), mcpkittest.WithProtocolVersion("2025-11-25"))
		err := h.Session.Subscribe(ctx, &mcp.SubscribeParams{URI: "incident://INC-7"})
		assert.Equal(t, int64(jsonrpc.CodeMethodNotFound), rpcError(t, err).Code, id.Subject)
		assert.False(t, h.Session.InitializeResult().Capabilities.Resources.Subscribe)
	}
	u := newUpdates()
	h := mcpkittest.NewHarness(t, f.srv, mcpkittest.WithIdentity(reader), mcpkittest.WithProtocolVersion("2026-07-28"),
		mcpkittest.WithClientOptions(u.clientOptions()))
	require.NoError(t, h.Session.Subscribe(ctx, &mcp.SubscribeParams{URI: "incident://INC-7"}))
	time.Sleep(100 * time.Millisecond)
	require.NoError(t, f.srv.MCPServer().ResourceUpdated(ctx, &mcp.ResourceUpdatedNotificationParams{URI: "incident://INC-7"}))
	u.none(t, "subscriptions are off")
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			return sb.String()
		}
	}
}
