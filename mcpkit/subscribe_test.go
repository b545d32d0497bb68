package mcpkit_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
	"github.com/mcpkit-go/mcpkit/ratelimit"
)

// decisions records every decided (not listing) request's operation,
// target and outcome.
type decisions struct {
	mu  sync.Mutex
	got []string
}

func (d *decisions) middleware(next mcpkit.Handler) mcpkit.Handler {
	return func(ctx context.Context, c *mcpkit.Call) (*mcp.CallToolResult, error) {
		res, err := next(ctx, c)
		if !c.Listing() {
			d.mu.Lock()
			d.got = append(d.got, string(c.Operation)+" "+c.Target+" "+string(c.Outcome()))
			d.mu.Unlock()
		}
		return res, err
	}
}

func (d *decisions) all() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.got...)
}

// pagesServer has a public page template whose every read needs approval,
// a public fixed resource and a prompt with always-approval; handled
// counts the SDK subscribe and completion handlers' runs.
func pagesServer(t *testing.T, d *decisions, handled *atomic.Int64, opts ...mcpkit.Option) *mcpkit.Server {
	t.Helper()
	sdk := &mcp.ServerOptions{
		SubscribeHandler:   func(context.Context, *mcp.SubscribeRequest) error { handled.Add(1); return nil },
		UnsubscribeHandler: func(context.Context, *mcp.UnsubscribeRequest) error { handled.Add(1); return nil },
		CompletionHandler: func(context.Context, *mcp.CompleteRequest) (*mcp.CompleteResult, error) {
			handled.Add(1)
			return &mcp.CompleteResult{Completion: mcp.CompletionResultDetails{Values: []string{"P-1"}}}, nil
		},
	}
	srv, err := mcpkit.NewServer(&mcp.Implementation{Name: "pages", Version: "1"},
		append([]mcpkit.Option{mcpkit.WithMiddleware(d.middleware), mcpkit.WithServerOptions(sdk)}, opts...)...)
	require.NoError(t, err)
	require.NoError(t, mcpkit.AddResourceTemplate(srv, mcpkit.ResourceTemplate{URITemplate: "page://{id}", Name: "page",
		Description: "One page.", Policy: mcpkit.Policy{Public: true, Approval: mcpkit.ApprovalAlways()}},
		func(_ context.Context, in pageID) ([]*mcp.ResourceContents, error) {
			return []*mcp.ResourceContents{{Text: in.ID}}, nil
		}))
	require.NoError(t, mcpkit.AddResource(srv, mcpkit.Resource{URI: "page://index", Name: "page_index",
		Description: "The page index.", Policy: mcpkit.Policy{Public: true}},
		func(context.Context) ([]*mcp.ResourceContents, error) {
			return []*mcp.ResourceContents{{Text: "P-1"}}, nil
		}))
	require.NoError(t, mcpkit.AddPrompt(srv, mcpkit.Prompt{Name: "rewrite_page", Description: "Rewrite a page.",
		Policy: mcpkit.Policy{Public: true, Approval: mcpkit.ApprovalAlways()}},
		func(_ context.Context, in pageID) ([]*mcp.PromptMessage, error) {
			return []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: in.ID}}}, nil
		}))
	return srv
}

func refusedOutcome(t *testing.T, err error) string {
	t.Helper()
	var we *jsonrpc.Error
	require.True(t, errors.As(err, &we), "want a JSON-RPC error, got %v", err)
	assert.Equal(t, mcpkit.RefusedRPCCode, we.Code)
	return string(we.Data)
}

// An entry whose every read needs a human's approval cannot be subscribed
// to or completed: no approval can be given read by read, so the request
// is refused (denied_approval) before any handler runs.
func TestApprovalNotGrantableRefusesSubscribeAndComplete(t *testing.T) {
	d := &decisions{}
	var handled atomic.Int64
	srv := pagesServer(t, d, &handled)
	h := mcpkittest.NewHarness(t, srv, mcpkittest.WithProtocolVersion("2025-11-25"))
	ctx := context.Background()

	err := h.Session.Subscribe(ctx, &mcp.SubscribeParams{URI: "page://P-1"})
	assert.JSONEq(t, `{"outcome":"denied_approval"}`, refusedOutcome(t, err))
	assert.Contains(t, err.Error(), "resource page needs a human's approval for each use, so it cannot be subscribed to")
	_, err = h.Session.Complete(ctx, &mcp.CompleteParams{Ref: &mcp.CompleteReference{Type: "ref/prompt", Name: "rewrite_page"},
		Argument: mcp.CompleteParamsArgument{Name: "id", Value: "P"}})
	assert.JSONEq(t, `{"outcome":"denied_approval"}`, refusedOutcome(t, err))
	assert.Zero(t, handled.Load(), "no SDK handler ran")

	require.NoError(t, h.Session.Subscribe(ctx, &mcp.SubscribeParams{URI: "page://index"}))
	assert.Equal(t, int64(1), handled.Load())
	assert.Equal(t, []string{
		"resources/subscribe page://P-1 denied_approval",
		"completion/complete rewrite_page denied_approval",
		"resources/subscribe page://index ok",
	}, d.all())
}

// A caller whose identity cannot be established subscribes to nothing and
// completes nothing (fail closed), audited.
func TestSubscribeAndCompleteWithoutIdentityAreRefused(t *testing.T) {
	d := &decisions{}
	var handled atomic.Int64
	srv := pagesServer(t, d, &handled, mcpkit.WithIdentityResolver(func(context.Context, mcp.Request) (mcpkit.Identity, error) {
		return mcpkit.Identity{}, errors.New("token store down")
	}))
	h := mcpkittest.NewHarness(t, srv, mcpkittest.WithProtocolVersion("2025-11-25"))
	ctx := context.Background()
	err := h.Session.Subscribe(ctx, &mcp.SubscribeParams{URI: "page://index"})
	assert.JSONEq(t, `{"outcome":"unavailable"}`, refusedOutcome(t, err))
	_, err = h.Session.Complete(ctx, &mcp.CompleteParams{Ref: &mcp.CompleteReference{Type: "ref/resource", URI: "page://{id}"},
		Argument: mcp.CompleteParamsArgument{Name: "id", Value: "P"}})
	assert.JSONEq(t, `{"outcome":"unavailable"}`, refusedOutcome(t, err))
	assert.Zero(t, handled.Load())
	assert.Equal(t, []string{"resources/subscribe page://index unavailable", "completion/complete page://{id} unavailable"}, d.all())
}

// A gate that panics refuses the subscription like one that says no.
func TestSubscribeGatePanicRefuses(t *testing.T) {
	d := &decisions{}
	var handled atomic.Int64
	srv := pagesServer(t, d, &handled, mcpkit.WithGates(mcpkit.GateFunc(func(_ context.Context, c *mcpkit.Call) error {
		if c.Operation == mcpkit.OpSubscribeResource {
			panic("flag provider exploded")
		}
		return nil
	})))
	h := mcpkittest.NewHarness(t, srv, mcpkittest.WithProtocolVersion("2025-11-25"))
	err := h.Session.Subscribe(context.Background(), &mcp.SubscribeParams{URI: "page://index"})
	require.Error(t, err)
	assert.Zero(t, handled.Load())
	assert.Equal(t, []string{"resources/subscribe page://index panic"}, d.all())
}

// On 2026-07-28 (one subscriptions/listen per Subscribe in the go-sdk
// client) the refused URI's listen subscribes nothing and hears nothing;
// the admitted one's does.
func TestListenSubscribesOnlyAdmittedURIs(t *testing.T) {
	d := &decisions{}
	var handled atomic.Int64
	srv := pagesServer(t, d, &handled)
	updates := make(chan string, 4)
	h := mcpkittest.NewHarness(t, srv, mcpkittest.WithProtocolVersion("2026-07-28"),
		mcpkittest.WithClientOptions(&mcp.ClientOptions{ResourceUpdatedHandler: func(_ context.Context, r *mcp.ResourceUpdatedNotificationRequest) {
			updates <- r.Params.URI
		}}))
	ctx := context.Background()
	require.NoError(t, h.Session.Subscribe(ctx, &mcp.SubscribeParams{URI: "page://P-1"}))
	require.NoError(t, h.Session.Subscribe(ctx, &mcp.SubscribeParams{URI: "page://index"}))
	require.Eventually(t, func() bool { return len(d.all()) == 2 }, 5*time.Second, 10*time.Millisecond)
	assert.ElementsMatch(t, []string{"subscriptions/listen page://P-1 denied_approval", "subscriptions/listen page://index ok"}, d.all())
	require.Eventually(t, func() bool { return handled.Load() == 1 }, 5*time.Second, 10*time.Millisecond, "only the allowed URI reached the handler")
	require.NoError(t, srv.MCPServer().ResourceUpdated(ctx, &mcp.ResourceUpdatedNotificationParams{URI: "page://P-1"}))
	require.NoError(t, srv.MCPServer().ResourceUpdated(ctx, &mcp.ResourceUpdatedNotificationParams{URI: "page://index"}))
	select {
	case got := <-updates:
		assert.Equal(t, "page://index", got, "only the admitted URI's update arrives")
	case <-time.After(5 * time.Second):
		t.Fatal("no update arrived for the admitted URI")
	}
	select {
	case got := <-updates:
		t.Fatalf("an update for %s arrived", got)
	case <-time.After(200 * time.Millisecond):
	}
	assert.Equal(t, int64(1), handled.Load())
}

// A session holds at most WithMaxSubscriptions resource subscriptions: one
// more is refused (unavailable, audited) before the SDK keeps it, on a
// resources/subscribe and on a listen alike; unsubscribing makes room.
func TestSubscriptionsPerSessionAreBounded(t *testing.T) {
	d := &decisions{}
	var handled atomic.Int64
	srv := pagesServer(t, d, &handled, mcpkit.WithMaxSubscriptions(2))
	h := mcpkittest.NewHarness(t, srv, mcpkittest.WithProtocolVersion("2025-11-25"))
	ctx := context.Background()
	require.NoError(t, h.Session.Subscribe(ctx, &mcp.SubscribeParams{URI: "page://index"}))
	require.NoError(t, h.Session.Subscribe(ctx, &mcp.SubscribeParams{URI: "page://index"}), "the same URI again takes no room")
	handled.Store(0)
	// page://{id} needs approval; a second fixed resource is needed.
	require.NoError(t, mcpkit.AddResource(srv, mcpkit.Resource{URI: "page://about", Name: "page_about",
		Description: "About.", Policy: mcpkit.Policy{Public: true}},
		func(context.Context) ([]*mcp.ResourceContents, error) {
			return []*mcp.ResourceContents{{Text: "a"}}, nil
		}))
	require.NoError(t, mcpkit.AddResource(srv, mcpkit.Resource{URI: "page://help", Name: "page_help",
		Description: "Help.", Policy: mcpkit.Policy{Public: true}},
		func(context.Context) ([]*mcp.ResourceContents, error) {
			return []*mcp.ResourceContents{{Text: "h"}}, nil
		}))
	require.NoError(t, h.Session.Subscribe(ctx, &mcp.SubscribeParams{URI: "page://about"}))
	err := h.Session.Subscribe(ctx, &mcp.SubscribeParams{URI: "page://help"})
	assert.JSONEq(t, `{"outcome":"unavailable"}`, refusedOutcome(t, err))
	assert.Contains(t, err.Error(), "too many resource subscriptions on this session (the limit is 2)")
	assert.Equal(t, int64(1), handled.Load(), "the refused subscription never reached the SDK's handler")
	require.NoError(t, h.Session.Unsubscribe(ctx, &mcp.UnsubscribeParams{URI: "page://about"}))
	require.NoError(t, h.Session.Subscribe(ctx, &mcp.SubscribeParams{URI: "page://help"}))
	got := d.all()
	assert.Contains(t, got, "resources/subscribe page://help unavailable")
	assert.Equal(t, "resources/subscribe page://help ok", got[len(got)-1])

	// On 2026-07-28 the in-memory session's listen streams share the bound.
	d2 := &decisions{}
	var handled2 atomic.Int64
	srv2 := pagesServer(t, d2, &handled2, mcpkit.WithMaxSubscriptions(1))
	h2 := mcpkittest.NewHarness(t, srv2, mcpkittest.WithProtocolVersion("2026-07-28"))
	require.NoError(t, h2.Session.Subscribe(ctx, &mcp.SubscribeParams{URI: "page://index"}))
	require.Eventually(t, func() bool { return handled2.Load() == 1 }, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, mcpkit.AddResource(srv2, mcpkit.Resource{URI: "page://about", Name: "page_about",
		Description: "About.", Policy: mcpkit.Policy{Public: true}},
		func(context.Context) ([]*mcp.ResourceContents, error) {
			return []*mcp.ResourceContents{{Text: "a"}}, nil
		}))
	require.NoError(t, h2.Session.Subscribe(ctx, &mcp.SubscribeParams{URI: "page://about"}))
	require.Eventually(t, func() bool { return len(d2.all()) == 2 }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, "subscriptions/listen page://about unavailable", d2.all()[1])
	assert.Equal(t, int64(1), handled2.Load())

	_, err = mcpkit.NewServer(&mcp.Implementation{Name: "x", Version: "1"}, mcpkit.WithMaxSubscriptions(0))
	assert.ErrorContains(t, err, "WithMaxSubscriptions(0)")
}

// A rate limit counts subscriptions with the reads they are decided as:
// past the read-only budget a subscription is refused denied_rate and
// never reaches the SDK.
func TestSubscriptionsShareTheReadRateLimit(t *testing.T) {
	mem, err := ratelimit.NewMemory()
	require.NoError(t, err)
	rules, err := ratelimit.ParseRules("read_only=2/m")
	require.NoError(t, err)
	gate, err := ratelimit.NewGate(mem, rules)
	require.NoError(t, err)
	d := &decisions{}
	var handled atomic.Int64
	srv := pagesServer(t, d, &handled, mcpkit.WithGates(gate))
	h := mcpkittest.NewHarness(t, srv, mcpkittest.WithProtocolVersion("2025-11-25"))
	ctx := context.Background()
	_, err = h.Read("page://index")
	require.NoError(t, err)
	require.NoError(t, h.Session.Subscribe(ctx, &mcp.SubscribeParams{URI: "page://index"}))
	err = h.Session.Subscribe(ctx, &mcp.SubscribeParams{URI: "page://index"})
	assert.JSONEq(t, `{"outcome":"denied_rate"}`, refusedOutcome(t, err))
	assert.Equal(t, int64(1), handled.Load())
	assert.Equal(t, []string{"resources/read page://index ok", "resources/subscribe page://index ok", "resources/subscribe page://index denied_rate"}, d.all())
}
