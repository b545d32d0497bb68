package flags_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/flags"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

type noteRef struct {
	ID string `json:"id" jsonschema:"description=Note id,pattern=^[0-9]+$"`
}

// addNoteEntries registers a note template and a summary prompt on srv;
// runs counts handler runs.
func addNoteEntries(t *testing.T, srv *mcpkit.Server, runs *atomic.Int64) {
	t.Helper()
	require.NoError(t, mcpkit.AddResourceTemplate(srv, mcpkit.ResourceTemplate{URITemplate: "note://{id}", Name: "note",
		Description: "One note.", Policy: mcpkit.Policy{Public: true}},
		func(_ context.Context, in noteRef) ([]*mcp.ResourceContents, error) {
			runs.Add(1)
			return []*mcp.ResourceContents{{Text: "note " + in.ID}}, nil
		}))
	require.NoError(t, mcpkit.AddPrompt(srv, mcpkit.Prompt{Name: "summarize_note", Description: "Summarize a note.",
		Policy: mcpkit.Policy{Public: true}},
		func(_ context.Context, in noteRef) ([]*mcp.PromptMessage, error) {
			runs.Add(1)
			return []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: "Summarize note " + in.ID}}}, nil
		}))
}

// A resource template and a prompt whose flags are off are absent from
// their lists and refused (denied_flag, the flag named) on read and get;
// turning the flags on announces the lists and lets both through.
func TestFlagOffHidesAndRefusesResourcesAndPrompts(t *testing.T) {
	client, p := memClient(t, boolFlags(map[string]bool{"resource.note": false, "prompt.summarize_note": false}))
	gate := newGate(t, client)
	srv, rec := newServer(t, gate, mcpkit.Identity{Subject: "alice"})
	var runs atomic.Int64
	addNoteEntries(t, srv, &runs)
	stop := gate.NotifyChanges(srv)
	defer stop()
	var resChanged, promptChanged atomic.Int64
	cs := mcpkittest.NewHarness(t, srv, mcpkittest.WithClientOptions(&mcp.ClientOptions{
		ResourceListChangedHandler: func(context.Context, *mcp.ResourceListChangedRequest) { resChanged.Add(1) },
		PromptListChangedHandler:   func(context.Context, *mcp.PromptListChangedRequest) { promptChanged.Add(1) },
	})).Session
	ctx := context.Background()

	tmpl, err := cs.ListResourceTemplates(ctx, nil)
	require.NoError(t, err)
	assert.Empty(t, tmpl.ResourceTemplates)
	prompts, err := cs.ListPrompts(ctx, nil)
	require.NoError(t, err)
	assert.Empty(t, prompts.Prompts)

	_, err = cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "note://1"})
	var we *jsonrpc.Error
	require.True(t, errors.As(err, &we), "%v", err)
	assert.Equal(t, "resource note is not enabled for you: feature flag resource.note is off", we.Message)
	assert.Equal(t, mcpkit.OutcomeDeniedFlag, rec.lastCall().Outcome())
	assert.Equal(t, mcpkit.OpReadResource, rec.lastCall().Operation)
	var den *flags.Denial
	require.True(t, errors.As(rec.lastCall().Err(), &den))
	assert.Equal(t, "resource.note", den.FlagKey)

	_, err = cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "summarize_note", Arguments: map[string]string{"id": "1"}})
	require.True(t, errors.As(err, &we), "%v", err)
	assert.Equal(t, "prompt summarize_note is not enabled for you: feature flag prompt.summarize_note is off", we.Message)
	assert.Equal(t, mcpkit.OutcomeDeniedFlag, rec.lastCall().Outcome())
	assert.Zero(t, runs.Load(), "nothing ran behind a flag that is off")

	p.UpdateFlags(boolFlags(map[string]bool{"resource.note": true, "prompt.summarize_note": true}))
	require.Eventually(t, func() bool { return resChanged.Load() > 0 && promptChanged.Load() > 0 }, 5*time.Second, 10*time.Millisecond,
		"the client hears that the resource and prompt lists changed")
	tmpl, err = cs.ListResourceTemplates(ctx, nil)
	require.NoError(t, err)
	require.Len(t, tmpl.ResourceTemplates, 1)
	got, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "note://7"})
	require.NoError(t, err)
	assert.Equal(t, "note 7", got.Contents[0].Text)
	_, err = cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "summarize_note", Arguments: map[string]string{"id": "7"}})
	require.NoError(t, err)
	assert.Equal(t, int64(2), runs.Load())
}
