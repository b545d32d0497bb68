package mcpkit_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

type routedIn struct {
	Region   string   `json:"region" jsonschema:"description=Region to run in"`
	Shard    int      `json:"shard,omitempty" jsonschema:"description=Shard number"`
	DryRun   bool     `json:"dry_run,omitempty" jsonschema:"description=Only plan"`
	Ratio    float64  `json:"ratio,omitempty" jsonschema:"description=A fraction"`
	Tags     []string `json:"tags,omitempty" jsonschema:"description=Tags"`
	Password string   `json:"password,omitempty" mcpkit:"redact" jsonschema:"description=Password"`
	Any      any      `json:"any,omitempty" jsonschema:"description=Anything"`
	Nested   struct {
		Zone string `json:"zone" jsonschema:"description=Zone"`
	} `json:"nested" jsonschema:"description=Nested"`
}

func addRouted(s *mcpkit.Server, p mcpkit.Policy) error {
	return mcpkit.AddTool(s, mcpkit.Tool{Name: "run_query", Description: "Run a query.", Policy: p},
		func(context.Context, routedIn) (documented, error) { return documented{ID: "ok"}, nil })
}

// A marked argument reaches tools/list as the property's x-mcp-header
// annotation (the form the go-sdk client reads to mirror it), and the
// ToolInfo says which header carries which argument.
func TestPolicyHeadersAnnotateInputSchema(t *testing.T) {
	s := mcpkit.MustNewServer(&mcp.Implementation{Name: "t", Version: "1"})
	require.NoError(t, addRouted(s, mcpkit.Policy{Risk: mcpkit.ReadOnly, Public: true,
		Headers: map[string]string{"region": "Region", "shard": "Shard", "dry_run": "Dry-Run"}}))

	h := mcpkittest.NewHarness(t, s)
	list, err := h.Session.ListTools(context.Background(), nil)
	require.NoError(t, err)
	require.Len(t, list.Tools, 1)
	raw, err := json.Marshal(list.Tools[0].InputSchema)
	require.NoError(t, err)
	var schema struct {
		Properties map[string]map[string]any `json:"properties"`
	}
	require.NoError(t, json.Unmarshal(raw, &schema))
	assert.Equal(t, "Region", schema.Properties["region"]["x-mcp-header"])
	assert.Equal(t, "Shard", schema.Properties["shard"]["x-mcp-header"])
	assert.Equal(t, "Dry-Run", schema.Properties["dry_run"]["x-mcp-header"])
	assert.NotContains(t, schema.Properties["password"], "x-mcp-header")
	assert.NotContains(t, schema.Properties["tags"], "x-mcp-header")

	info, ok := s.Tool("run_query")
	require.True(t, ok)
	assert.Equal(t, []mcpkit.ParamHeader{
		{Argument: "dry_run", Name: "Dry-Run", Type: "boolean"},
		{Argument: "region", Name: "Region", Type: "string"},
		{Argument: "shard", Name: "Shard", Type: "integer"},
	}, info.ParamHeaders)
	assert.Equal(t, "Mcp-Param-Dry-Run", info.ParamHeaders[0].Header())

	// A copy handed out cannot change what the transport enforces.
	info.ParamHeaders[0].Name = "Other"
	info.Policy.Headers["region"] = "Other"
	again, _ := s.Tool("run_query")
	assert.Equal(t, "Dry-Run", again.ParamHeaders[0].Name)
	assert.Equal(t, "Region", again.Policy.Headers["region"])
}

// What may not travel as a header is a registration error (never a
// panic, never a tool silently dropped): a secret, a non-scalar, a
// nested or unknown argument, a name that is not an HTTP token (header
// injection) and names that collide ignoring case.
func TestPolicyHeadersRefusedAtRegistration(t *testing.T) {
	cases := []struct {
		name    string
		headers map[string]string
		redact  []string
		want    string
	}{
		{"tagged secret", map[string]string{"password": "Password"}, nil, `argument "password" is redacted`},
		{"policy redaction", map[string]string{"region": "Region"}, []string{"region"}, `argument "region" is redacted`},
		{"redaction below the argument", map[string]string{"region": "Region"}, []string{"region.x"}, `argument "region" is redacted`},
		{"number", map[string]string{"ratio": "Ratio"}, nil, `argument "ratio" is number`},
		{"array", map[string]string{"tags": "Tags"}, nil, `argument "tags" is array`},
		{"object", map[string]string{"nested": "Nested"}, nil, `argument "nested" is object`},
		{"untyped", map[string]string{"any": "Any"}, nil, `argument "any" is of no single type`},
		{"nested path", map[string]string{"nested.zone": "Zone"}, nil, "only top-level arguments"},
		{"unknown argument", map[string]string{"regoin": "Region"}, nil, `no top-level argument "regoin"`},
		{"empty name", map[string]string{"region": ""}, nil, "must be an HTTP token"},
		{"CRLF injection", map[string]string{"region": "Region\r\nX-Admin: 1"}, nil, "must be an HTTP token"},
		{"space", map[string]string{"region": "My Region"}, nil, "must be an HTTP token"},
		{"colon", map[string]string{"region": "Region:1"}, nil, "must be an HTTP token"},
		{"non-ASCII", map[string]string{"region": "Région"}, nil, "must be an HTTP token"},
		{"duplicate ignoring case", map[string]string{"region": "Where", "shard": "WHERE"}, nil, "header names ignore case"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := mcpkit.MustNewServer(&mcp.Implementation{Name: "t", Version: "1"})
			var err error
			require.NotPanics(t, func() {
				err = addRouted(s, mcpkit.Policy{Risk: mcpkit.ReadOnly, Public: true, Headers: tc.headers, Redact: tc.redact})
			})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), `tool "run_query"`)
			assert.Empty(t, s.Tools(), "a refused tool is not registered")
		})
	}
}
