package mcpkit_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// tamper changes everything mutable on a ToolInfo a caller was handed.
func tamper(info *mcpkit.ToolInfo) {
	if len(info.Policy.Scopes) > 0 {
		info.Policy.Scopes[0] = "tickets:read"
	}
	info.Policy.Scopes = nil
	info.Policy.Public = true
	for i := range info.InputSchema {
		info.InputSchema[i] = ' '
	}
	info.Redact = append(info.Redact[:0], "nothing")
	info.Annotations.ReadOnlyHint = true
	if info.Annotations.DestructiveHint != nil {
		*info.Annotations.DestructiveHint = true
	}
}

func TestChangingAReturnedToolInfoChangesNothing(t *testing.T) {
	s, ran := ticketServer(t, mcpkit.WithDefaultIdentity(readOnlyCaller))
	before, ok := s.Tool("update_ticket")
	require.True(t, ok)
	info, _ := s.Tool("update_ticket")
	tamper(info)
	for _, info := range s.Tools() {
		tamper(info)
	}

	cs := mcpkittest.NewHarness(t, s).Session
	assert.Equal(t, []string{"get_ticket"}, listNames(t, cs), "the tool is still hidden")
	res := call(t, cs, "update_ticket", map[string]any{"id": "1"})
	assert.True(t, res.IsError)
	assert.Contains(t, mcpkittest.Text(res), "requires scope tickets:write")
	assert.Zero(t, ran["update_ticket"])

	after, _ := s.Tool("update_ticket")
	assert.Equal(t, before, after, "the server's own description is unchanged")
	assert.Equal(t, []string{"tickets:write"}, after.Policy.Scopes)

	admin, _ := ticketServer(t, mcpkit.WithDefaultIdentity(mcpkit.Identity{Subject: "root", Scopes: []string{"tickets:read", "tickets:write"}}))
	for _, info := range admin.Tools() {
		tamper(info)
	}
	lr, err := mcpkittest.NewHarness(t, admin).Session.ListTools(context.Background(), nil)
	require.NoError(t, err)
	require.Len(t, lr.Tools, 2)
	w := lr.Tools[1]
	assert.Equal(t, "update_ticket", w.Name)
	assert.False(t, w.Annotations.ReadOnlyHint)
	assert.False(t, *w.Annotations.DestructiveHint)
	schema, _ := json.Marshal(w.InputSchema)
	assert.Contains(t, string(schema), `"type":"object"`)
}

// TestToolInfoCopiesDoNotRaceWithCalls tampers with copies while calls are
// in flight; run with -race.
func TestToolInfoCopiesDoNotRaceWithCalls(t *testing.T) {
	s, _ := ticketServer(t, mcpkit.WithDefaultIdentity(readOnlyCaller))
	cs := mcpkittest.NewHarness(t, s).Session
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for range 20 {
				for _, info := range s.Tools() {
					tamper(info)
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range 20 {
				res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "update_ticket", Arguments: map[string]any{"id": "1"}})
				if assert.NoError(t, err) {
					assert.True(t, res.IsError)
				}
			}
		}()
	}
	wg.Wait()
}
