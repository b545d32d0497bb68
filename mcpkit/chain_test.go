package mcpkit_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

func tracer(name string, log *[]string) mcpkit.Middleware {
	return func(next mcpkit.Handler) mcpkit.Handler {
		return func(ctx context.Context, c *mcpkit.Call) (*mcp.CallToolResult, error) {
			*log = append(*log, name+">"+boolStr(c.Input != nil))
			res, err := next(ctx, c)
			*log = append(*log, "<"+name)
			return res, err
		}
	}
}

func boolStr(b bool) string {
	if b {
		return "decoded"
	}
	return "raw"
}

func TestChainOrderAndStages(t *testing.T) {
	var log []string
	gate := mcpkit.GateFunc(func(ctx context.Context, c *mcpkit.Call) error {
		if c.Request != nil { // calls only, not tools/list
			log = append(log, "gate")
		}
		return nil
	})
	s := mcpkit.MustNewServer(&mcp.Implementation{Name: "t", Version: "1"},
		mcpkit.WithMiddleware(tracer("a", &log), tracer("b", &log)),
		mcpkit.WithGates(gate),
		mcpkit.WithInnerMiddleware(mcpkit.Chain(tracer("c", &log), tracer("d", &log))))
	mcpkit.MustAddTool(s, mcpkit.Tool{Name: "get_thing", Description: "d.", Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Public: true}},
		func(context.Context, documented) (documented, error) {
			log = append(log, "handler")
			return documented{}, nil
		})
	cs := mcpkittest.NewHarness(t, s).Session
	call(t, cs, "get_thing", map[string]any{"id": "1"})
	assert.Equal(t, []string{"a>raw", "b>raw", "gate", "c>decoded", "d>decoded", "handler", "<d", "<c", "<b", "<a"}, log)

	log = nil
	res := call(t, cs, "get_thing", map[string]any{"id": 1})
	assert.True(t, res.IsError)
	assert.Equal(t, []string{"a>raw", "b>raw", "gate", "<b", "<a"}, log, "inner middleware never sees invalid input")
}

func TestUnknownToolIsAProtocolErrorSeenByOuterMiddleware(t *testing.T) {
	var seen *mcpkit.Call
	s := mcpkit.MustNewServer(&mcp.Implementation{Name: "t", Version: "1"},
		mcpkit.WithMiddleware(func(next mcpkit.Handler) mcpkit.Handler {
			return func(ctx context.Context, c *mcpkit.Call) (*mcp.CallToolResult, error) {
				seen = c
				return next(ctx, c)
			}
		}))
	mcpkit.MustAddTool(s, mcpkit.Tool{Name: "get_thing", Description: "d.", Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Public: true}}, noop[documented])
	cs := mcpkittest.NewHarness(t, s).Session
	_, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_nothing", Arguments: map[string]any{"x": 1}})
	require.Error(t, err)
	var we *jsonrpc.Error
	require.ErrorAs(t, err, &we)
	assert.Equal(t, int64(jsonrpc.CodeInvalidParams), we.Code)
	require.NotNil(t, seen)
	assert.True(t, seen.Tool.Unknown)
	assert.Equal(t, "get_nothing", seen.Tool.Name)
	assert.Equal(t, mcpkit.OutcomeUnknownTool, seen.Outcome())
	assert.JSONEq(t, `{"x":1}`, string(seen.Arguments))

	// The server is still healthy.
	assert.False(t, call(t, cs, "get_thing", map[string]any{"id": "1"}).IsError)
}

func TestPanickingMiddlewareIsContained(t *testing.T) {
	var outer mcpkit.Outcome
	s := mcpkit.MustNewServer(&mcp.Implementation{Name: "t", Version: "1"},
		mcpkit.WithMiddleware(func(next mcpkit.Handler) mcpkit.Handler {
			return func(ctx context.Context, c *mcpkit.Call) (*mcp.CallToolResult, error) {
				res, err := next(ctx, c)
				outer = c.Outcome()
				return res, err
			}
		}),
		mcpkit.WithInnerMiddleware(func(next mcpkit.Handler) mcpkit.Handler {
			return func(ctx context.Context, c *mcpkit.Call) (*mcp.CallToolResult, error) {
				var m map[string]int
				//lint:ignore SA5000 the nil map write is the middleware bug this test contains
				m["boom"]++
				return next(ctx, c)
			}
		}))
	mcpkit.MustAddTool(s, mcpkit.Tool{Name: "get_thing", Description: "d.", Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Public: true}}, noop[documented])
	cs := mcpkittest.NewHarness(t, s).Session
	res := call(t, cs, "get_thing", map[string]any{"id": "1"})
	assert.True(t, res.IsError)
	assert.True(t, strings.HasPrefix(mcpkittest.Text(res), "internal error"))
	assert.Equal(t, mcpkit.OutcomePanic, outer)
}

func TestNotifyToolsChangedReachesClients(t *testing.T) {
	s := mcpkit.MustNewServer(&mcp.Implementation{Name: "t", Version: "1"})
	mcpkit.MustAddTool(s, mcpkit.Tool{Name: "get_thing", Description: "d.", Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Public: true}}, noop[documented])
	changed := make(chan struct{}, 4)
	ctx := context.Background()
	cs := mcpkittest.NewHarness(t, s, mcpkittest.WithClientOptions(&mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) { changed <- struct{}{} },
	})).Session
	_, err := cs.ListTools(ctx, nil)
	require.NoError(t, err)
	s.NotifyToolsChanged()
	select {
	case <-changed:
	case <-time.After(10 * time.Second):
		t.Fatal("no notifications/tools/list_changed within 10s")
	}
	assert.Len(t, listNames(t, cs), 1)
}
