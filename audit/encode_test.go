package audit_test

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
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
	// The one difference: bidirectional controls are \u escapes.
	bidi := audit.Record{ID: "x", Tool: "t", Error: "a\u202eb\u2066c\u2069d\u202ae\u2028",
		Arguments: json.RawMessage(`{"k":"v\u202ew"}`), Result: json.RawMessage("{\"k\":\"v\u202ew\u2067\"}")}
	want, err := json.Marshal(&bidi)
	require.NoError(t, err)
	got, err := bidi.AppendJSON(nil)
	require.NoError(t, err)
	assert.Equal(t, strings.NewReplacer("\u202e", `\u202e`, "\u2066", `\u2066`, "\u2069", `\u2069`, "\u202a", `\u202a`, "\u2067", `\u2067`).Replace(string(want)), string(got))
	var back audit.Record
	require.NoError(t, json.Unmarshal(got, &back))
	assert.Equal(t, bidi.Error, back.Error, "the escapes decode to the same text")
	// Every exported field, filled by reflection: a field added to Record
	// but not to AppendJSON fails here.
	var filled audit.Record
	fill(reflect.ValueOf(&filled).Elem(), 1)
	want, err = json.Marshal(&filled)
	require.NoError(t, err)
	got, err = filled.AppendJSON(nil)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got), "a Record field is missing from AppendJSON")

	bad := audit.Record{ID: "x", Tool: "t", Result: json.RawMessage(`{"unterminated"`)}
	_, err = bad.AppendJSON(nil)
	assert.Error(t, err, "a raw member the redactor did not write is checked")
}

// TestResultDigestPolicy: a tool named in WithResultDigest has its result
// recorded as size and SHA-256 of the bytes the client received, and not
// in clear; other tools keep the full, redacted result; arguments and
// errors are unaffected.
func TestResultDigestPolicy(t *testing.T) {
	mem := &memSink{}
	f := newFixture(t, mem, audit.WithResultDigest("get_thing"))
	cs := mcpkittest.NewHarness(t, f.srv).Session
	res, err := callTool(t, cs, "get_thing", map[string]any{"name": "x", "text": "digest-only-text"})
	require.NoError(t, err)
	_, err = callTool(t, cs, "update_thing", map[string]any{"name": "x", "text": "kept-in-full"})
	require.NoError(t, err)
	recs := mem.finals()
	require.Len(t, recs, 2)
	// mcpkit sends the structured content's bytes as the text block too.
	require.Len(t, res.Content, 1)
	sent := []byte(res.Content[0].(*mcp.TextContent).Text)
	sum := sha256.Sum256(sent)
	assert.JSONEq(t, fmt.Sprintf(`{"digest_only":true,"length":%d,"sha256":"%x"}`, len(sent), sum), string(recs[0].Result))
	assert.NotContains(t, string(recs[0].Result), "digest-only-text")
	assert.Contains(t, string(recs[0].Arguments), "digest-only-text")
	assert.Contains(t, string(recs[1].Result), "kept-in-full")
	_, err = audit.New(mem, audit.WithResultDigest(""))
	assert.ErrorContains(t, err, "WithResultDigest needs tool names")
}

// fill sets every exported field of v to a non-zero value.
func fill(v reflect.Value, n int) {
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(audit.Time{}) {
			v.Set(reflect.ValueOf(audit.Time{Time: time.Date(2026, 1, 2, 3, 4, 5, n, time.UTC)}))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), n+i)
			}
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), n)
	case reflect.Slice:
		if v.Type() == reflect.TypeOf(json.RawMessage(nil)) {
			v.SetBytes([]byte(fmt.Sprintf(`{"n":%d}`, n)))
			return
		}
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		fill(v.Index(0), n)
		fill(v.Index(1), n+1)
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d", n))
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(n))
	case reflect.Uint, reflect.Uint64, reflect.Uint32:
		v.SetUint(uint64(n))
	case reflect.Float64:
		v.SetFloat(float64(n) + 0.5)
	case reflect.Bool:
		v.SetBool(true)
	}
}
