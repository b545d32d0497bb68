package flagdfile

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/open-feature/go-sdk/openfeature"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The arguments of a flagd operation that are read without the engine must
// mean what the engine makes of them; the others go through the engine.
func TestArgValueMatchesEngine(t *testing.T) {
	fc := openfeature.FlattenedContext{
		openfeature.TargetingKey: "alice", "email": "alice@example.com", "groups": []string{"sre", "dev"},
		"n": 3, "nested": map[string]any{"k": "v"}, "bad": "a\xffb",
	}
	data := normalizeContext(fc)
	data["$flagd"] = map[string]any{"flagKey": "f", "timestamp": float64(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix())}
	dataJSON, err := json.Marshal(data)
	require.NoError(t, err)
	for _, arg := range []string{
		`"ops-"`, `""`, `12.5`, `true`, `false`, `null`,
		`{"var": "email"}`, `{"var": "targetingKey"}`, `{"var": "groups"}`, `{"var": "n"}`, `{"var": "missing"}`,
		`{"var": "nested"}`, `{"var": "$flagd"}`, `{"var": "bad"}`,
		// Through the engine: dotted names, defaults, whole-data, operations.
		`{"var": "nested.k"}`, `{"var": "$flagd.flagKey"}`, `{"var": ["missing", "dflt"]}`, `{"var": ""}`,
		`{"cat": [{"var": "email"}, "!"]}`, `{"if": [true, "a", "b"]}`,
	} {
		t.Run(arg, func(t *testing.T) {
			var a any
			require.NoError(t, json.Unmarshal([]byte(arg), &a))
			got, ok := argValue(a, data, dataJSON)
			require.True(t, ok)
			want, err := applyRule(json.RawMessage(arg), dataJSON)
			require.NoError(t, err)
			assert.Equal(t, want, got)
		})
	}
	assert.Equal(t, "a\uFFFDb", data["bad"], "strings are what the engine sees once encoded")
}
