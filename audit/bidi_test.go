package audit_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// TestBidiControlsAreEscapedInTheFile: a client sends a right-to-left
// override (and an isolate) in its arguments, which reach the record's
// arguments, result and error. The JSONL file holds them only as \u
// escapes, so `tail` on a terminal shows them instead of reordering the
// line; the chain verifies and the record reads back unchanged.
func TestBidiControlsAreEscapedInTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	file, err := openFile(path)
	require.NoError(t, err)
	mem := &memSink{}
	f := newFixture(t, audit.Fanout(file, mem))
	cs := mcpkittest.NewHarness(t, f.srv).Session
	const text = "invoice_\u202efdp.exe and \u2066isolated\u2069"
	_, err = callTool(t, cs, "get_thing", map[string]any{"name": "x", "text": text})
	require.NoError(t, err)
	_, err = callTool(t, cs, "get_thing", map[string]any{"name": "x", "fail": text})
	require.NoError(t, err)
	require.NoError(t, audit.Close(context.Background(), file))

	b, err := os.ReadFile(path)
	require.NoError(t, err)
	for _, c := range []string{"\u202e", "\u2066", "\u2069"} {
		assert.NotContains(t, string(b), c, "a raw bidirectional control is in the file")
	}
	assert.Contains(t, string(b), `invoice_\u202efdp.exe`)
	_, err = audit.Verify(testKeys, path)
	require.NoError(t, err, "the chain verifies over the escaped bytes")
	recs, _ := readRecords(t, path)
	require.Len(t, recs, 2)
	var args map[string]string
	require.NoError(t, jsonUnmarshal(recs[0].Arguments, &args))
	assert.Equal(t, text, args["text"], "the record reads back with the characters")
	assert.True(t, strings.HasSuffix(recs[1].Error, "\u2069"), recs[1].Error)
}
