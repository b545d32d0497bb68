package audit_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

func TestOneRecordPerCallForEveryOutcome(t *testing.T) {
	sink := &memSink{}
	f := newFixture(t, sink)
	cs := mcpkittest.NewHarness(t, f.srv, mcpkittest.WithClientInfo("test-client", "1.2.3")).Session

	cases := []struct {
		name     string
		tool     string
		args     map[string]any
		outcome  string
		isError  bool
		protoErr bool
		start    bool
	}{
		{"ok", "get_thing", map[string]any{"name": "a"}, "ok", false, false, false},
		{"tool error", "get_thing", map[string]any{"name": "a", "public": "no such thing"}, "tool_error", true, false, false},
		{"internal error", "get_thing", map[string]any{"name": "a", "fail": "db down"}, "tool_error", true, false, false},
		{"invalid input", "get_thing", map[string]any{"name": 7}, "invalid_input", true, false, false},
		{"denied by flag", "get_flagged", map[string]any{"name": "a"}, "denied_flag", true, false, false},
		{"denied by scope", "get_admin", map[string]any{"name": "a"}, "denied_scope", true, false, false},
		{"denied at approval", "delete_thing", map[string]any{"name": "a", "deny": true}, "denied_approval", true, false, false},
		{"approved destructive", "delete_thing", map[string]any{"name": "a"}, "ok", false, false, true},
		{"write", "update_thing", map[string]any{"name": "a"}, "ok", false, false, true},
		{"panic", "update_thing", map[string]any{"name": "a", "panic": true}, "panic", true, false, true},
		{"unknown tool", "get_nothing", map[string]any{"name": "a"}, "unknown_tool", false, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(sink.all())
			res, err := callTool(t, cs, tc.tool, tc.args)
			if tc.protoErr {
				require.Error(t, err)
			} else {
				require.NoError(t, err)
				assert.Equal(t, tc.isError, res.IsError, mcpkittest.Text(res))
			}
			recs := sink.all()[before:]
			var final []audit.Record
			var starts []audit.Record
			for _, r := range recs {
				if r.Phase == audit.PhaseStart {
					starts = append(starts, r)
				} else {
					final = append(final, r)
				}
			}
			require.Len(t, final, 1, "exactly one final record")
			r := final[0]
			assert.Equal(t, tc.outcome, r.Outcome)
			assert.Equal(t, tc.tool, r.Tool)
			assert.Equal(t, "alice", r.Principal.Subject)
			assert.Equal(t, "alice@example.com", r.Principal.Email)
			assert.Equal(t, []string{"sre"}, r.Principal.Groups)
			assert.Equal(t, "test-client/1.2.3", r.Principal.Client)
			assert.Equal(t, "local", r.Principal.Auth)
			assert.Equal(t, audit.ServerInfo{Name: "things", Version: "1.0.0"}, r.Server)
			assert.NotEmpty(t, r.ProtocolVersion)
			assert.Len(t, r.ID, 32)
			assert.False(t, r.Time.IsZero())
			if tc.start {
				require.Len(t, starts, 1, "one write-ahead record")
				assert.Equal(t, r.ID, starts[0].ID)
				assert.Empty(t, starts[0].Outcome)
			} else {
				assert.Empty(t, starts)
			}
			if tc.outcome != "ok" {
				assert.NotEmpty(t, r.Error, "the internal cause is recorded")
			}
		})
	}
	assert.True(t, f.sawWAL["update_thing"], "start record was in the sink before the write handler ran")
	assert.True(t, f.sawWAL["delete_thing"], "start record was in the sink before the destructive handler ran")

	all := sink.finals()
	byOutcome := map[string]audit.Record{}
	for _, r := range all {
		byOutcome[r.Outcome] = r
	}
	assert.Contains(t, byOutcome["panic"].Error, "boom")
	assert.Contains(t, byOutcome["denied_scope"].Error, "things:admin")
	assert.Equal(t, "bob", byOutcome["denied_approval"].Approval.Approver)
	assert.Equal(t, "denied", byOutcome["denied_approval"].Approval.Decision)
	assert.Equal(t, "write", byOutcome["panic"].Risk)
	assert.Empty(t, byOutcome["unknown_tool"].Risk)
}

func TestWriteAheadFailureRefusesTheCall(t *testing.T) {
	sink := &memSink{}
	f := newFixture(t, sink)
	cs := mcpkittest.NewHarness(t, f.srv).Session
	sink.setFail(errors.New("disk full"))

	res, err := callTool(t, cs, "update_thing", map[string]any{"name": "a"})
	require.NoError(t, err)
	assert.True(t, res.IsError)
	assert.Contains(t, mcpkittest.Text(res), "was not run: the audit log cannot record the call")
	assert.False(t, f.sawWAL["update_thing"])
	assert.Equal(t, uint64(2), f.auditor.Unwritten(), "start and final records both counted")

	// A read-only call fails closed by default: the result is withheld.
	res, err = callTool(t, cs, "get_thing", map[string]any{"name": "secret-data"})
	require.NoError(t, err)
	assert.True(t, res.IsError)
	assert.NotContains(t, mcpkittest.Text(res), "secret-data")
	assert.Contains(t, mcpkittest.Text(res), "withheld")

	sink.setFail(nil)
	res, err = callTool(t, cs, "update_thing", map[string]any{"name": "a"})
	require.NoError(t, err)
	assert.False(t, res.IsError, "the call runs again once the sink recovers")
}

func TestFailOpenReadOnlyCountsAndLogs(t *testing.T) {
	sink := &memSink{}
	var logged syncBuffer
	f := newFixture(t, sink, audit.WithFailOpenReadOnly(), audit.WithLogger(newJSONLogger(&logged)))
	cs := mcpkittest.NewHarness(t, f.srv).Session
	sink.setFail(errors.New("collector down"))

	res, err := callTool(t, cs, "get_thing", map[string]any{"name": "visible"})
	require.NoError(t, err)
	assert.False(t, res.IsError)
	assert.Contains(t, mcpkittest.Text(res), "visible")
	assert.Equal(t, uint64(1), f.auditor.Unwritten())
	assert.Contains(t, logged.String(), "audit: record not written")
	assert.Contains(t, logged.String(), "collector down")
	assert.Contains(t, logged.String(), `\"tool\":\"get_thing\"`)

	// Writes still fail closed.
	res, err = callTool(t, cs, "update_thing", map[string]any{"name": "a"})
	require.NoError(t, err)
	assert.True(t, res.IsError)
}
