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
	require.NoError(t, json.Unmarshal(stampMessages([]byte(body)), &batch))
	require.Len(t, batch, 2)
	assert.Nil(t, batch[0]["params"])
	meta := batch[1]["params"].(map[string]any)["_meta"].(map[string]any)
	assert.Equal(t, "41", meta[mcpkit.MetaRequestID])

	for _, s := range []string{`{"jsonrpc":"2.0","method":"notifications/initialized"}`, `not json`, `[{"broken"`} {
		assert.Equal(t, s, string(stampMessages([]byte(s))))
	}
}
