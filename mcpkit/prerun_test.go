package mcpkit_test

import (
	"context"
	"errors"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// TestBeforeRunStepsRunLastAndCanRefuse: steps registered by outer
// middleware run after the gates, validation and inner middleware, in
// order; a failing step refuses the call and the handler does not run.
func TestBeforeRunStepsRunLastAndCanRefuse(t *testing.T) {
	var log []string
	var fail error
	outer := func(next mcpkit.Handler) mcpkit.Handler {
		return func(ctx context.Context, c *mcpkit.Call) (*mcp.CallToolResult, error) {
			c.BeforeRun(func(context.Context, *mcpkit.Call) error { log = append(log, "step1"); return fail })
			c.BeforeRun(func(context.Context, *mcpkit.Call) error { log = append(log, "step2"); return nil })
			res, err := next(ctx, c)
			log = append(log, "outcome="+string(c.Outcome()))
			return res, err
		}
	}
	s := mcpkit.MustNewServer(&mcp.Implementation{Name: "t", Version: "1"},
		mcpkit.WithMiddleware(outer),
		mcpkit.WithInnerMiddleware(tracer("approval", &log)))
	mcpkit.MustAddTool(s, mcpkit.Tool{Name: "update_thing", Description: "d.", Policy: mcpkit.Policy{Risk: mcpkit.Write, Public: true}},
		func(context.Context, documented) (documented, error) {
			log = append(log, "handler")
			return documented{}, nil
		})
	cs := mcpkittest.NewHarness(t, s).Session

	call(t, cs, "update_thing", map[string]any{"id": "1"})
	assert.Equal(t, []string{"approval>decoded", "step1", "step2", "handler", "<approval", "outcome=ok"}, log)

	log = nil
	call(t, cs, "update_thing", map[string]any{"id": 1})
	assert.Equal(t, []string{"outcome=invalid_input"}, log, "a call refused by validation runs no step")

	for _, tc := range []struct {
		err     error
		outcome string
		says    string
	}{
		{errors.New("disk full"), "unavailable", "a policy check could not be completed"},
		{mcpkit.NewError(mcpkit.CodeUnavailable, "not now, the log is down", nil), "unavailable", "not now, the log is down"},
	} {
		log, fail = nil, tc.err
		res := call(t, cs, "update_thing", map[string]any{"id": "1"})
		assert.True(t, res.IsError)
		assert.Contains(t, mcpkittest.Text(res), tc.says)
		assert.NotContains(t, mcpkittest.Text(res), "disk full")
		assert.Equal(t, []string{"approval>decoded", "step1", "<approval", "outcome=" + tc.outcome}, log, "no later step, no handler")
	}
}

// TestInputRequestRoundIsNotOK: a call answered with input requests ran
// nothing, and the outer middleware (audit) sees it as input_required.
func TestInputRequestRoundIsNotOK(t *testing.T) {
	var outcome mcpkit.Outcome
	ask := func(next mcpkit.Handler) mcpkit.Handler {
		return func(ctx context.Context, c *mcpkit.Call) (*mcp.CallToolResult, error) {
			if c.Request.Params.RequestState == "" {
				return &mcp.CallToolResult{
					InputRequests: mcp.InputRequestMap{"q": &mcp.ElicitParams{Message: "sure?", RequestedSchema: map[string]any{"type": "object"}}},
					RequestState:  "s1",
				}, nil
			}
			return next(ctx, c)
		}
	}
	record := func(next mcpkit.Handler) mcpkit.Handler {
		return func(ctx context.Context, c *mcpkit.Call) (*mcp.CallToolResult, error) {
			res, err := next(ctx, c)
			outcome = c.Outcome()
			return res, err
		}
	}
	ran := 0
	s := mcpkit.MustNewServer(&mcp.Implementation{Name: "t", Version: "1"}, mcpkit.WithMiddleware(record), mcpkit.WithInnerMiddleware(ask))
	mcpkit.MustAddTool(s, mcpkit.Tool{Name: "update_thing", Description: "d.", Policy: mcpkit.Policy{Risk: mcpkit.Write, Public: true}},
		func(context.Context, documented) (documented, error) { ran++; return documented{}, nil })
	cs := mcpkittest.NewHarness(t, s).Session
	// The client cannot answer (no elicitation handler); only the asking
	// round matters here.
	_, _ = cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "update_thing", Arguments: map[string]any{"id": "1"}})
	assert.Zero(t, ran)
	assert.Equal(t, mcpkit.OutcomeInputRequired, outcome)
}
