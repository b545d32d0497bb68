package transport

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// A batch is stamped message by message; other messages and bodies that do
// not parse pass through unchanged.
func TestStampMessages(t *testing.T) {
	body := `[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":41,"method":"tools/call","params":{"name":"get_x"}}]`
	var batch []map[string]any
	out, calls := stampMessages([]byte(body))
	require.NoError(t, json.Unmarshal(out, &batch))
	require.Len(t, batch, 2)
	assert.Nil(t, batch[0]["params"])
	meta := batch[1]["params"].(map[string]any)["_meta"].(map[string]any)
	assert.Equal(t, "41", meta[mcpkit.MetaRequestID])
	require.Len(t, calls, 1, "the tools/call is found for the scope check")
	assert.Equal(t, "get_x", calls[0].Params.Name)
	assert.EqualValues(t, int64(41), calls[0].ID.Raw())

	for _, s := range []string{`{"jsonrpc":"2.0","method":"notifications/initialized"}`, `not json`, `[{"broken"`} {
		out, calls := stampMessages([]byte(s))
		assert.Equal(t, s, string(out))
		assert.Empty(t, calls)
	}
}
