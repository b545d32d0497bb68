package transport

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/internal/wire"
)

// A batch is rewritten message by message: the tools/call gets the request
// id, with the client's own key in mcpkit's namespace gone and its other
// _meta kept; other messages pass as sent.
func TestForwardBodyStampsAndStrips(t *testing.T) {
	body := `[{"jsonrpc":"2.0","id":1,"method":"ping"},` +
		`{"jsonrpc":"2.0","id":41,"method":"tools/call","params":{"_meta":{"io.mcpkit/request-id":"forged","io.mcpkit/other":1,"progressToken":"p"},"name":"get_x","arguments":{"a":"<b>"}}}]`
	in, err := decodeBody([]byte(body))
	require.NoError(t, err)
	calls := in.toolCalls()
	require.Len(t, calls, 1)
	assert.Equal(t, "get_x", calls[0].Name())
	out, err := forwardBody([]byte(body), in, calls)
	require.NoError(t, err)
	var batch []map[string]any
	require.NoError(t, json.Unmarshal(out, &batch))
	require.Len(t, batch, 2)
	assert.Equal(t, map[string]any{"jsonrpc": "2.0", "id": float64(1), "method": "ping"}, batch[0])
	params := batch[1]["params"].(map[string]any)
	assert.Equal(t, map[string]any{wire.MetaRequestID: "41", "progressToken": "p"}, params["_meta"])
	assert.Equal(t, map[string]any{"a": "<b>"}, params["arguments"])
	assert.NotContains(t, string(out), `\u003c`, "no HTML escaping: the rewrite must not grow the body")

	// Without a tools/call the client's bytes go on untouched.
	plain := []byte(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	in, err = decodeBody(plain)
	require.NoError(t, err)
	out, err = forwardBody(plain, in, in.toolCalls())
	require.NoError(t, err)
	assert.Equal(t, string(plain), string(out))

	for _, bad := range []string{`not json`, `[{"broken"`, `[]`, `{"jsonrpc":"1.0","id":1,"method":"ping"}`} {
		_, err := decodeBody([]byte(bad))
		assert.Error(t, err, bad)
	}
}
