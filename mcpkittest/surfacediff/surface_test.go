package surfacediff_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkittest/surfacediff"
)

// oldFormat is a tool as mcpkittest wrote it before approval_kind and
// flag_default joined the file.
const oldFormat = `[
  {
    "name": "delete_thing",
    "description": "Delete a thing.",
    "policy": {"risk": "destructive", "scopes": ["things:admin"], "public": false,
      "approval": "always (default for destructive tools)", "flag_key": "tool.delete_thing",
      "redact": [], "idempotent": false, "open_world": false},
    "annotations": {"destructiveHint": true, "idempotentHint": false, "openWorldHint": false, "readOnlyHint": false},
    "input_schema": {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"], "additionalProperties": false}
  },
  {
    "name": "get_thing",
    "description": "Get a thing.",
    "policy": {"risk": "read_only", "scopes": ["things:read"], "public": false,
      "approval": "never", "flag_key": "tool.get_thing", "redact": [], "idempotent": false, "open_world": false},
    "annotations": {"idempotentHint": true, "openWorldHint": false, "readOnlyHint": true},
    "input_schema": {"type": "object"}
  }
]`

func TestParseReadsTheOlderFormat(t *testing.T) {
	s, err := surfacediff.Parse([]byte(oldFormat))
	require.NoError(t, err)
	require.Len(t, s.Tools, 2)
	assert.Equal(t, "always", s.Tools[0].Policy.ApprovalKind)
	assert.Equal(t, "off", s.Tools[0].Policy.FlagDefault)
	assert.Equal(t, "never", s.Tools[1].Policy.ApprovalKind)
	assert.Equal(t, "on", s.Tools[1].Policy.FlagDefault)

	// A surface read from the older format compares with a current one by
	// meaning: the new fields are not changes.
	cur, err := surfacediff.Parse([]byte(oldFormat))
	require.NoError(t, err)
	cur.Tools[0].Policy.Approval = "never"
	cur.Tools[0].Policy.ApprovalKind = "never"
	r := surfacediff.Compare(s, cur)
	assert.Equal(t, []string{"delete_thing: approval loosened from always to never (security review)"}, r.Lines())
}

func TestParseRefusesWhatItCannotClassify(t *testing.T) {
	cases := map[string]string{
		"empty":                ``,
		"not json":             `golden mismatch`,
		"not a list":           `"tools"`,
		"unknown field":        `[{"name":"get_x","description":"","policy":{"risk":"read_only","approval":"never","flag_key":"f","redact":[],"sandbox":true}}]`,
		"unknown risk":         `[{"name":"get_x","description":"","policy":{"risk":"harmless","approval":"never","flag_key":"f"}}]`,
		"unknown approval":     `[{"name":"get_x","description":"","policy":{"risk":"read_only","approval":"sometimes","flag_key":"f"}}]`,
		"duplicate tool":       `[{"name":"get_x","policy":{"risk":"read_only","approval":"never"}},{"name":"get_x","policy":{"risk":"read_only","approval":"never"}}]`,
		"schema not an object": `[{"name":"get_x","policy":{"risk":"read_only","approval":"never"},"input_schema":[1]}]`,
		"trailing data":        `[] []`,
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := surfacediff.Parse([]byte(in))
			require.Error(t, err)
			assert.True(t, errors.Is(err, surfacediff.ErrFormat), "%v", err)
		})
	}
	s, err := surfacediff.Parse([]byte(`{"tools": []}`))
	require.NoError(t, err)
	assert.Empty(t, s.Tools)
}

func TestParseCategories(t *testing.T) {
	got, err := surfacediff.ParseCategories("security, breaking,,security-review")
	require.NoError(t, err)
	assert.Equal(t, []surfacediff.Category{surfacediff.Breaking, surfacediff.SecurityReview}, got)
	_, err = surfacediff.ParseCategories("breaking,everything")
	assert.ErrorContains(t, err, `unknown change category "everything"`)
}
