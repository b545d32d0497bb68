package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
)

func TestExitCodes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.jsonl")
	s, err := audit.Open(path)
	require.NoError(t, err)
	for i := range 3 {
		require.NoError(t, s.Write(context.Background(), &audit.Record{ID: string(rune('a' + i)), Tool: "get_x", Outcome: "ok"}))
	}
	require.NoError(t, s.Close(context.Background()))

	var out, errOut bytes.Buffer
	assert.Equal(t, 0, run([]string{path}, &out, &errOut), errOut.String())
	assert.Contains(t, out.String(), "OK: 3 records")

	b, _ := os.ReadFile(path)
	lines := strings.SplitAfter(string(b), "\n")
	require.NoError(t, os.WriteFile(path, []byte(lines[0]+lines[2]), 0o600))
	errOut.Reset()
	assert.Equal(t, 1, run([]string{path}, &out, &errOut))
	assert.Contains(t, errOut.String(), path+":2: seq 3 follows seq 1")

	assert.Equal(t, 2, run(nil, &out, &errOut))
	assert.Equal(t, 1, run([]string{filepath.Join(t.TempDir(), "missing")}, &out, &errOut))
}
