package audit_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
)

// TestAppendJSONMatchesMarshal: the file sink writes records with
// AppendJSON; it must give json.Marshal's bytes, so that readers and the
// verifier see the same record whichever encoder wrote it.
func TestAppendJSONMatchesMarshal(t *testing.T) {
	full := audit.Record{
		ID: "abc", Time: audit.Time{Time: time.Date(2026, 11, 29, 12, 0, 0, 5, time.UTC)}, Phase: "start",
		Server:    audit.ServerInfo{Name: "srv", Version: "1.0"},
		Principal: audit.Principal{Subject: "alice", Email: "a@example.com", Groups: []string{"sre", "ops"}, Client: "c/1", Auth: "jwt"},
		SessionID: "s", ProtocolVersion: "2026-07-28", RequestID: "7", Tool: "get_thing", Risk: "read_only",
		Arguments: json.RawMessage(`{"a":1,"b":[true,null,"x"]}`), Outcome: "tool_error",
		Error:      "quote \" backslash \\ <html> & tab\t é \u2028 ok",
		Result:     json.RawMessage(` { "k" : "v" } `),
		Approval:   &audit.Approval{Approver: "bob", Decision: "approved", Reason: "fine", LatencyMS: 12.5},
		Review:     &audit.Review{Action: "approve", Status: 200, RequestID: "r1", Caller: "carol"},
		DurationMS: 0.000001, TraceID: "t", SpanID: "sp", Kind: "k", Seq: 9, PrevHash: "p", Kid: "k1", Hash: "h",
		Source: "2001:db8::/64",
		Refusals: &audit.RefusalSummary{Count: 42, First: audit.Time{Time: time.Date(2026, 11, 29, 11, 0, 0, 0, time.UTC)},
			Last: audit.Time{Time: time.Date(2026, 11, 29, 11, 0, 59, 999, time.FixedZone("x", 3600))}},
	}
	for name, r := range map[string]audit.Record{
		"full":      full,
		"minimal":   {ID: "x", Tool: "t"},
		"approval0": {ID: "x", Tool: "t", Approval: &audit.Approval{Decision: "denied"}, DurationMS: 1e21},
		"principal": {ID: "x", Tool: "t", Principal: audit.Principal{Auth: "none"}},
		"review":    {ID: "x", Outcome: "review_refused", Review: &audit.Review{Action: "list", Status: 403}},
	} {
		want, err := json.Marshal(&r)
		require.NoError(t, err)
		got, err := r.AppendJSON(nil)
		require.NoError(t, err, name)
		assert.Equal(t, string(want), string(got), name)
	}
	bad := audit.Record{ID: "x", Tool: "t", Result: json.RawMessage(`{"unterminated"`)}
	_, err := bad.AppendJSON(nil)
	assert.Error(t, err, "a raw member the redactor did not write is checked")
}
