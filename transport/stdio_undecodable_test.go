package transport_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/serve"
	"github.com/mcpkit-go/mcpkit/transport"
)

// TestStdioUndecodableReadAndGetAreOnRecord: on stdio a resources/read
// whose uri is not a string, or a prompts/get with a non-string argument,
// is refused by the SDK before any server code runs; each now leaves
// exactly one invalid_request record naming the method, the SDK's answer
// is unchanged (an error for that id), and no handler runs.
func TestStdioUndecodableReadAndGetAreOnRecord(t *testing.T) {
	srv, err := mcpkit.NewServer(&mcp.Implementation{Name: "named", Version: "1.0.0"})
	require.NoError(t, err)
	ran := &int64Counter{}
	pub := mcpkit.Policy{Risk: mcpkit.ReadOnly, Public: true}
	require.NoError(t, mcpkit.AddResourceTemplate(srv, mcpkit.ResourceTemplate{URITemplate: "incident://{id}", Name: "incident",
		Description: "An incident.", Policy: pub}, func(_ context.Context, in incidentRef) ([]*mcp.ResourceContents, error) {
		ran.add()
		return []*mcp.ResourceContents{{URI: "incident://" + in.ID, Text: "x"}}, nil
	}))
	require.NoError(t, mcpkit.AddPrompt(srv, mcpkit.Prompt{Name: "postmortem", Description: "Write a postmortem.", Policy: pub},
		func(_ context.Context, in incidentRef) ([]*mcp.PromptMessage, error) {
			ran.add()
			return []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: in.ID}}}, nil
		}))
	var mu sync.Mutex
	var recs []*audit.Record
	aud := must(audit.New(audit.SinkFunc(func(_ context.Context, r *audit.Record) error {
		mu.Lock()
		defer mu.Unlock()
		recs = append(recs, r)
		return nil
	})))
	lines := []string{initLine,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","id":3,"method":"resources/read","params":{"uri":["incident://INC-1001"]}}`,
		`{"jsonrpc":"2.0","id":4,"method":"prompts/get","params":{"name":"postmortem","arguments":{"id":1001}}}`,
		`{"jsonrpc":"2.0","id":5,"method":"resources/read","params":{"uri":"incident://INC-1001"}}`,
	}
	var out bytes.Buffer
	require.NoError(t, transport.ServeStdio(context.Background(), srv, transport.WithStdio(strings.NewReader(strings.Join(lines, "\n")+"\n"), &out),
		transport.WithLocalScopes(), serve.AuditStdioRefusals(aud, srv.Implementation())))
	got := responses(t, out.String())
	for _, id := range []string{"3", "4"} {
		require.Contains(t, got, id, out.String())
		assert.NotNil(t, got[id]["error"], "the SDK still refuses request %s", id)
	}
	require.Contains(t, got, "5")
	assert.Nil(t, got["5"]["error"], "a good read is served")
	assert.EqualValues(t, 1, ran.load(), "only the good read ran")
	mu.Lock()
	defer mu.Unlock()
	var refused []string
	for _, r := range recs {
		if r.Outcome == audit.OutcomeInvalidRequest {
			refused = append(refused, r.Operation+" "+r.RequestID)
		}
	}
	assert.ElementsMatch(t, []string{"resources/read 3", "prompts/get 4"}, refused, "exactly one record each")
}
