package serve_test

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/serve"
)

// A tools/call nested 1000 deep over stdio is refused before the SDK (its
// line is no JSON-RPC message the transport can decode) and, as over HTTP,
// is on the record as an invalid request; the tool does not run.
func TestStdioTooDeepCallIsAudited(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.jsonl")
	var r ran
	deep := strings.Repeat(`{"a":`, 1000) + "1" + strings.Repeat("}", 1000)
	in := strings.Join([]string{
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"sh","version":"1"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add_note","arguments":{"text":"x","deep":` + deep + `}}}`,
	}, "\n") + "\n"
	var out syncBuffer
	err := serve.Run(context.Background(), notesConfig(&r), []string{"-audit", path},
		serve.IO{Stdin: strings.NewReader(in), Stdout: &out, Stderr: io.Discard, Getenv: noEnv})
	require.NoError(t, err)
	assert.Contains(t, out.String(), "nested deeper than", "the client is told why")
	assert.Zero(t, r.get("add_note"), "the tool ran")
	rec, ok := findRecord(calls(readAudit(t, path)), func(r audit.Record) bool { return r.Outcome == audit.OutcomeInvalidRequest })
	require.True(t, ok, "the too-deep call is not on the record")
	assert.Equal(t, "notes", rec.Server.Name)
	assert.NotEmpty(t, rec.Principal.Subject)
	assert.Contains(t, rec.Error, "nested deeper than")
}
