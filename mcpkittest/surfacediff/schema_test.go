package surfacediff_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkittest/surfacediff"
)

// oneTool is a surface with one read-only tool of the given schemas.
func oneTool(t *testing.T, in, out string) *surfacediff.Surface {
	t.Helper()
	outField := ""
	if out != "" {
		outField = `,"output_schema":` + out
	}
	s, err := surfacediff.Parse([]byte(fmt.Sprintf(`[{"name":"get_x","description":"X.",
		"policy":{"risk":"read_only","scopes":["x"],"public":false,"approval":"never","flag_key":"tool.get_x","redact":[],"idempotent":false,"open_world":false},
		"annotations":{},"input_schema":%s%s}]`, in, outField)))
	require.NoError(t, err)
	return s
}

// Schema keywords mcpkit does not generate today still get a verdict.
func TestCompareSchemaKeywords(t *testing.T) {
	cases := []struct {
		name           string
		oldIn, newIn   string
		oldOut, newOut string
		want           string
	}{
		{"integer widened to number", `{"type":"object","properties":{"n":{"type":"integer"}}}`, `{"type":"object","properties":{"n":{"type":"number"}}}`, "", "",
			"get_x: arguments.n: type widened from integer to number (additive)"},
		{"number narrowed to integer", `{"type":"object","properties":{"n":{"type":"number"}}}`, `{"type":"object","properties":{"n":{"type":"integer"}}}`, "", "",
			"get_x: arguments.n: type changed from number to integer: calls that passed may be refused (breaking for clients)"},
		{"nullable added", `{"type":"object","properties":{"n":{"type":"string"}}}`, `{"type":"object","properties":{"n":{"type":["null","string"]}}}`, "", "",
			"get_x: arguments.n: type widened from string to null or string (additive)"},
		{"argument mirrored into a header", `{"type":"object","properties":{"n":{"type":"string"}}}`, `{"type":"object","properties":{"n":{"type":"string","x-mcp-header":"N"}}}`, "", "",
			"get_x: arguments.n: now also sent as HTTP header Mcp-Param-N, visible to every proxy on the way (security review)"},
		{"header renamed", `{"type":"object","properties":{"n":{"type":"string","x-mcp-header":"N"}}}`, `{"type":"object","properties":{"n":{"type":"string","x-mcp-header":"M"}}}`, "", "",
			"get_x: arguments.n: header renamed from Mcp-Param-N to Mcp-Param-M: clients still sending the old one are refused until they list the tools again (breaking for clients)"},
		{"header removed", `{"type":"object","properties":{"n":{"type":"string","x-mcp-header":"N"}}}`, `{"type":"object","properties":{"n":{"type":"string"}}}`, "", "",
			"get_x: arguments.n: no longer sent as Mcp-Param-N: clients still sending it are refused until they list the tools again (breaking for clients)"},
		{"unanalysed keyword", `{"type":"object","properties":{"n":{"anyOf":[{"type":"string"}]}}}`, `{"type":"object","properties":{"n":{"anyOf":[{"type":"integer"}]}}}`, "", "",
			"get_x: arguments.n: anyOf changed (not analysed; treated as breaking) (breaking for clients)"},
		{"closed object", `{"type":"object"}`, `{"type":"object","additionalProperties":false}`, "", "",
			"get_x: arguments: additionalProperties changed from none to false: narrowed, calls that passed may be refused (breaking for clients)"},
		{"input now optional", `{"type":"object","properties":{"n":{"type":"string"}},"required":["n"]}`, `{"type":"object","properties":{"n":{"type":"string"}}}`, "", "",
			"get_x: arguments.n is now optional (additive)"},
		{"input default changed", `{"type":"object","properties":{"n":{"type":"integer","default":20}}}`, `{"type":"object","properties":{"n":{"type":"integer","default":50}}}`, "", "",
			"get_x: arguments.n: default changed from 20 to 50: callers that omit it get another value (breaking for clients)"},
		{"output schema removed", `{"type":"object"}`, `{"type":"object"}`, `{"type":"object"}`, "",
			"get_x: no longer declares an output schema: clients lose structured results (breaking for clients)"},
		{"output property may be absent", `{"type":"object"}`, `{"type":"object"}`,
			`{"type":"object","properties":{"id":{"type":"string"}},"required":["id"]}`, `{"type":"object","properties":{"id":{"type":"string"}}}`,
			"get_x: result.id may now be absent from the result (breaking for clients)"},
		{"output array items retyped", `{"type":"object"}`, `{"type":"object"}`,
			`{"type":"object","properties":{"ids":{"type":"array","items":{"type":"string"}}}}`, `{"type":"object","properties":{"ids":{"type":"array","items":{"type":"integer"}}}}`,
			"get_x: result.ids[]: type changed from string to integer: clients may misread results (breaking for clients)"},
		{"output enum widened", `{"type":"object"}`, `{"type":"object"}`,
			`{"type":"object","properties":{"s":{"type":"string","enum":["a"]}}}`, `{"type":"object","properties":{"s":{"type":"string","enum":["a","b"]}}}`,
			`get_x: result.s: may now return "b", which clients may not expect (breaking for clients)`},
		{"output property added", `{"type":"object"}`, `{"type":"object"}`,
			`{"type":"object","properties":{}}`, `{"type":"object","properties":{"s":{"type":"string"}}}`,
			"get_x: result.s added to the result (additive)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := surfacediff.Compare(oneTool(t, tc.oldIn, tc.oldOut), oneTool(t, tc.newIn, tc.newOut))
			assert.Contains(t, r.Lines(), tc.want, "report:\n%s", r)
		})
	}
}
