package mcpkittest

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

func TestPolicyMarkdownAnswersForResourcesTemplatesAndPrompts(t *testing.T) {
	var ran int
	srv, err := goodServer(&ran, variant{})()
	require.NoError(t, err)
	md := string(PolicyMarkdown(srv))
	for _, want := range []string{
		"\n## Resources\n\n2 resources and resource templates. Should the agent be able to read each one?\n",
		"| `status` | `things://status` | yes | `things:read` | never | `resource.status` (on) |\n",
		"| `thing` (template) | `things://thing/{id}` | yes | `things:read` | never | `resource.thing` (on) |\n",
		"\n### resource `thing`: thing\n",
		"- URI template: `things://thing/{id}`; variables: `id` (required)\n",
		"- **Should the agent be able to read it?** Yes, for a caller holding `things:read` while its flag is on.\n",
		"\n## Prompts\n\n1 prompts. Should the agent be able to get each one?\n",
		"| `summarize_thing` | `id` (required), `tone` | yes | `things:admin` | never | `prompt.summarize_thing` (on) |\n",
		"- **Should the agent be able to get it?** Yes, for a caller holding `things:admin` while its flag is on.\n",
	} {
		assert.Contains(t, md, want)
	}
	assert.Less(t, strings.Index(md, "## Resources"), strings.Index(md, "## Prompts"))

	toolsOnly, err := mcpkit.NewServer(&mcp.Implementation{Name: "t", Version: "1"})
	require.NoError(t, err)
	mcpkit.MustAddTool(toolsOnly, mcpkit.Tool{Name: "get_thing", Description: "Get.", Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Public: true}},
		func(context.Context, idIn) (thing, error) { return thing{}, nil })
	assert.NotContains(t, string(PolicyMarkdown(toolsOnly)), "## Resources")
	assert.NotContains(t, string(PolicyMarkdown(toolsOnly)), "## Prompts")
}

// TestGoldenCheckGatesResourceAndPromptChanges plays the review of a
// resource made readable without its scope: CI names it, an update
// without the acknowledgement writes nothing, and the accepted change
// appears in POLICY.md's changes section.
func TestGoldenCheckGatesResourceAndPromptChanges(t *testing.T) {
	t.Setenv(AcceptEnv, "")
	var ran int
	opts := goldenOnly(t)
	opts.Update = true
	r := runFake(t, goodServer(&ran, variant{}), opts)
	require.False(t, r.results[surfaceCheck].failed, messages(r, surfaceCheck))
	surface, err := os.ReadFile(opts.SurfaceFile)
	require.NoError(t, err)
	assert.Contains(t, string(surface), `"uri_template": "things://thing/{id}"`)
	opts.Update = false

	changed := goodServer(&ran, variant{after: func(s *mcpkit.Server) {
		mcpkit.MustAddResource(s, mcpkit.Resource{URI: "things://motd", Name: "motd", Description: "Message of the day.",
			Policy: mcpkit.Policy{Public: true}}, func(context.Context) ([]*mcp.ResourceContents, error) { return nil, nil })
	}})
	line := "resource motd: new resource readable without a scope (public) (security review)"
	r = runFake(t, changed, opts)
	require.True(t, r.results[surfaceCheck].failed)
	assert.Contains(t, messages(r, surfaceCheck), "\n  "+line+"\n")

	upd := opts
	upd.Update = true
	r = runFake(t, changed, upd)
	assert.True(t, r.results[surfaceCheck].failed)
	assertFile(t, opts.SurfaceFile, surface)

	upd.Accept = "security-review"
	r = runFake(t, changed, upd)
	require.False(t, r.results[surfaceCheck].failed, messages(r, surfaceCheck))
	require.False(t, r.results[policyCheck].failed, messages(r, policyCheck))
	md, err := os.ReadFile(opts.PolicyFile)
	require.NoError(t, err)
	assert.Contains(t, string(md), "- resource `motd`: new resource readable without a scope (public) (security review)\n")
	assert.Contains(t, string(md), "| `motd` | `things://motd` | yes | public | never | `resource.motd` (on) |\n")
	r = runFake(t, changed, opts)
	assert.False(t, r.results[surfaceCheck].failed, messages(r, surfaceCheck))
	assert.False(t, r.results[policyCheck].failed, messages(r, policyCheck))
}
