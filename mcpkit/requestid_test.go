package mcpkit_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

func TestStampRequestID(t *testing.T) {
	cases := []struct {
		name, in string
		id       any
		want     map[string]any
	}{
		{"no meta", `{"name":"get_x","arguments":{"a":1}}`, int64(7), map[string]any{mcpkit.MetaRequestID: "7"}},
		{"keeps client meta", `{"_meta":{"progressToken":"p"},"name":"get_x"}`, "abc", map[string]any{"progressToken": "p", mcpkit.MetaRequestID: "abc"}},
		{"overwrites a planted id", `{"_meta":{"` + mcpkit.MetaRequestID + `":"forged"},"name":"get_x"}`, int64(1), map[string]any{mcpkit.MetaRequestID: "1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got struct {
				Meta map[string]any `json:"_meta"`
				Name string         `json:"name"`
			}
			require.NoError(t, json.Unmarshal(mcpkit.StampRequestID(json.RawMessage(tc.in), tc.id), &got))
			assert.Equal(t, tc.want, got.Meta)
			assert.Equal(t, "get_x", got.Name)
		})
	}
	for _, bad := range []string{`[1]`, `not json`, `{"_meta":5}`} {
		assert.Equal(t, bad, string(mcpkit.StampRequestID(json.RawMessage(bad), 1)), "unparseable params are left for the server to refuse")
	}
}
