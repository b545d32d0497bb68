package ratelimit_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/ratelimit"
)

func TestParseRules(t *testing.T) {
	r, err := ratelimit.ParseRules("read_only=20/s, write=5/m,destructive=2/m,tool:delete_incident=1/10m+2")
	require.NoError(t, err)
	require.Equal(t, ratelimit.Limit{Events: 20, Per: time.Second}, r.Class[mcpkit.ReadOnly])
	require.Equal(t, ratelimit.Limit{Events: 5, Per: time.Minute}, r.Class[mcpkit.Write])
	require.Equal(t, ratelimit.Limit{Events: 2, Per: time.Minute}, r.Class[mcpkit.Destructive])
	require.Equal(t, ratelimit.Limit{Events: 1, Per: 10 * time.Minute, Burst: 2}, r.Tool["delete_incident"])
	require.Equal(t, "read_only=20/s,write=5/m,destructive=2/m,tool:delete_incident=1/10m0s+2", r.String())
}

func TestParseRulesNamesTheBadEntry(t *testing.T) {
	for _, tc := range []struct{ name, spec, want string }{
		{"empty", " ", "empty rate limit spec"},
		{"no equals", "read_only", `entry "read_only": expected KEY=LIMIT`},
		{"unknown class", "reads=20/s", `unknown key "reads"`},
		{"no slash", "write=5", `limit "5": expected EVENTS/PERIOD`},
		{"zero events", "write=0/m", `events "0" must be a positive integer`},
		{"negative events", "write=-1/m", `events "-1"`},
		{"bad period", "write=5/fortnight", `period "fortnight"`},
		{"negative period", "write=5/-1s", `period "-1s"`},
		{"bad burst", "write=5/m+x", `burst "x"`},
		{"empty tool", "tool:=1/m", "tool: needs a tool name"},
		{"duplicate class", "write=5/m,write=6/m", "class write is limited twice"},
		{"duplicate tool", "tool:x=1/m,tool:x=2/m", "tool x is limited twice"},
		{"trailing comma", "write=5/m,", `entry ""`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ratelimit.ParseRules(tc.spec)
			require.ErrorContains(t, err, tc.want)
		})
	}
}
