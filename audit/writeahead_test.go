package audit_test

import (
	"context"
	"crypto/rand"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// startFailing refuses write-ahead records only.
type startFailing struct{ *memSink }

func (s startFailing) Write(ctx context.Context, r *audit.Record) error {
	if r.Phase == audit.PhaseStart {
		return errors.New("disk full")
	}
	return s.memSink.Write(ctx, r)
}

// walServer serves write and destructive tools behind the real gates: the
// built-in scope check, a flag gate, validation and in-client approval.
// The caller holds things:write only.
func walServer(t *testing.T, sink audit.Sink) (*mcpkit.Server, *atomic.Int64) {
	t.Helper()
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	kr, err := approval.NewKeyring(approval.Key{ID: "k1", Secret: secret})
	require.NoError(t, err)
	elicit, err := approval.Elicit(approval.ElicitConfig{Keys: kr})
	require.NoError(t, err)
	flag := mcpkit.GateFunc(func(_ context.Context, c *mcpkit.Call) error {
		if c.Tool.Name == "update_flagged" {
			return mcpkit.NewError(mcpkit.CodeDeniedFlag, "tool update_flagged is turned off", nil)
		}
		return nil
	})
	srv, err := mcpkit.NewServer(&mcp.Implementation{Name: "things", Version: "1.0.0"},
		mcpkit.WithMiddleware(must(audit.Middleware(sink))),
		mcpkit.WithGates(flag),
		mcpkit.WithInnerMiddleware(approval.MustNew(elicit)),
		mcpkit.WithDefaultIdentity(mcpkit.Identity{Subject: "alice", Scopes: []string{"things:write"}, AuthMethod: "local", Transport: "memory"}))
	require.NoError(t, err)
	var ran atomic.Int64
	h := func(_ context.Context, in thingIn) (thingOut, error) { ran.Add(1); return thingOut{Name: in.Name}, nil }
	for name, p := range map[string]mcpkit.Policy{
		"update_thing":   {Risk: mcpkit.Write, Scopes: []string{"things:write"}},
		"update_admin":   {Risk: mcpkit.Write, Scopes: []string{"things:admin"}},
		"update_flagged": {Risk: mcpkit.Write, Scopes: []string{"things:write"}},
		"delete_thing":   {Risk: mcpkit.Destructive, Scopes: []string{"things:write"}},
	} {
		require.NoError(t, mcpkit.AddTool(srv, mcpkit.Tool{Name: name, Description: "Change things.", Policy: p}, h))
	}
	return srv, &ran
}

// phases lists the records as "phase:outcome", in order.
func phases(recs []audit.Record) []string {
	var out []string
	for _, r := range recs {
		if r.Phase == audit.PhaseStart {
			out = append(out, "start")
		} else {
			out = append(out, r.Outcome)
		}
	}
	return out
}

func TestRefusedCallsLeaveNoWriteAheadRecord(t *testing.T) {
	sink := &memSink{}
	srv, ran := walServer(t, sink)
	cs := mcpkittest.NewHarness(t, srv).Session
	for _, tc := range []struct {
		name, tool string
		args       map[string]any
		outcome    string
	}{
		{"scope", "update_admin", map[string]any{"name": "a"}, "denied_scope"},
		{"schema", "update_thing", map[string]any{"name": 7}, "invalid_input"},
		{"flag", "update_flagged", map[string]any{"name": "a"}, "denied_flag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(sink.all())
			res, err := callTool(t, cs, tc.tool, tc.args)
			require.NoError(t, err)
			assert.True(t, res.IsError)
			assert.Equal(t, []string{tc.outcome}, phases(sink.all()[before:]), "a refused call has a final record and no start record")
		})
	}
	assert.Zero(t, ran.Load())
}

func TestApprovedCallIsWrittenAheadAfterApprovalAndInputRoundsAreNotOK(t *testing.T) {
	for _, p := range []struct{ name, version string }{{"2026-07-28 input requests", ""}, {"legacy elicitation/create", "2025-11-25"}} {
		t.Run(p.name, func(t *testing.T) {
			sink := &memSink{}
			srv, ran := walServer(t, sink)
			cs := mcpkittest.NewHarness(t, srv, mcpkittest.WithProtocolVersion(p.version), mcpkittest.WithElicitApprove("")).Session
			res, err := callTool(t, cs, "delete_thing", map[string]any{"name": "a"})
			require.NoError(t, err)
			require.False(t, res.IsError, mcpkittest.Text(res))
			recs := sink.all()
			require.Equal(t, []string{"input_required", "start", "ok"}, phases(recs),
				"the round that asked ran nothing; the approved round is written ahead, then finished")
			assert.Equal(t, "pending", recs[0].Approval.Decision)
			assert.Equal(t, recs[1].ID, recs[2].ID)
			assert.Equal(t, "approved", recs[2].Approval.Decision)
			assert.EqualValues(t, 1, ran.Load())

			// Declined: the asking round and the refusal, nothing written ahead.
			cs = mcpkittest.NewHarness(t, srv, mcpkittest.WithProtocolVersion(p.version), mcpkittest.WithElicitDecline()).Session
			before := len(sink.all())
			res, err = callTool(t, cs, "delete_thing", map[string]any{"name": "b"})
			require.NoError(t, err)
			assert.True(t, res.IsError)
			assert.Equal(t, []string{"input_required", "denied_approval"}, phases(sink.all()[before:]))
			assert.EqualValues(t, 1, ran.Load())
		})
	}
}

func TestWriteAheadFailureAfterApprovalRefusesTheCall(t *testing.T) {
	sink := &memSink{}
	srv, ran := walServer(t, startFailing{sink})
	cs := mcpkittest.NewHarness(t, srv, mcpkittest.WithElicitApprove("")).Session
	res, err := callTool(t, cs, "delete_thing", map[string]any{"name": "a"})
	require.NoError(t, err)
	assert.True(t, res.IsError)
	assert.Contains(t, mcpkittest.Text(res), "delete_thing was not run: the audit log cannot record the call")
	assert.Zero(t, ran.Load(), "the handler ran without its write-ahead record")
	recs := sink.all()
	assert.Equal(t, []string{"input_required", "unavailable"}, phases(recs))
	assert.Equal(t, "approved", recs[1].Approval.Decision)
	assert.Contains(t, recs[1].Error, "disk full")
}
