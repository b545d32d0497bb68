package mcpkit

import (
	"context"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
)

// The client info the receiving middleware read is reused for the same
// request only: another request (a handler serving a nested call with the
// outer call's context) reads its own.
func TestClientInfoReadIsReusedForItsOwnRequestOnly(t *testing.T) {
	outer := &mcp.CallToolRequest{Params: &mcp.CallToolParamsRaw{Name: "a"}}
	inner := &mcp.CallToolRequest{Params: &mcp.CallToolParamsRaw{Name: "b"}}
	read := &mcp.Implementation{Name: "as-read", Version: "1"}
	ctx := withClientInfo(context.Background(), outer, read)
	assert.Same(t, read, clientInfoOf(ctx, outer))
	assert.Nil(t, clientInfoOf(ctx, inner), "another request's client info is not taken from the context")
	assert.Nil(t, clientInfoOf(context.Background(), outer))
}
