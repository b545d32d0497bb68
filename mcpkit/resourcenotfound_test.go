package mcpkit_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

type pageID struct {
	ID string `json:"id" jsonschema:"description=Page id such as P-1,pattern=^P-[0-9]+$"`
}

// A template handler that finds nothing at a well-formed URI answers with
// the protocol's resource-not-found code, not with the refusal code a gate
// uses: the reader can tell a missing resource from a forbidden one.
func TestResourceNotFoundAnswersTheProtocolsCode(t *testing.T) {
	var outcome mcpkit.Outcome
	srv, err := mcpkit.NewServer(&mcp.Implementation{Name: "pages", Version: "1"},
		mcpkit.WithMiddleware(func(next mcpkit.Handler) mcpkit.Handler {
			return func(ctx context.Context, c *mcpkit.Call) (*mcp.CallToolResult, error) {
				res, err := next(ctx, c)
				if !c.Listing() {
					outcome = c.Outcome()
				}
				return res, err
			}
		}))
	require.NoError(t, err)
	require.NoError(t, mcpkit.AddResourceTemplate(srv, mcpkit.ResourceTemplate{URITemplate: "page://{id}", Name: "page",
		MIMEType: "text/plain", Description: "One page.", Policy: mcpkit.Policy{Public: true}},
		func(_ context.Context, in pageID) ([]*mcp.ResourceContents, error) {
			if in.ID != "P-1" {
				return nil, mcpkit.ResourceNotFound("page://" + in.ID)
			}
			return []*mcp.ResourceContents{{Text: "one"}}, nil
		}))
	h := mcpkittest.NewHarness(t, srv)

	res, err := h.Read("page://P-1")
	require.NoError(t, err)
	assert.Equal(t, "one", res.Contents[0].Text)

	_, err = h.Read("page://P-2")
	var we *jsonrpc.Error
	require.True(t, errors.As(err, &we), "a JSON-RPC error, got %v", err)
	assert.Equal(t, int64(jsonrpc.CodeInvalidParams), we.Code)
	assert.Contains(t, we.Message, "resource not found: page://P-2")
	var data map[string]string
	require.NoError(t, json.Unmarshal(we.Data, &data))
	assert.Equal(t, "tool_error", data["outcome"])
	assert.Equal(t, mcpkit.OutcomeToolError, outcome)
}
