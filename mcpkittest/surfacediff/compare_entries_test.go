package surfacediff_test

import (
	"context"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest/surfacediff"
)

type thingVars struct {
	ID string `json:"id" jsonschema:"description=Thing id"`
}

type thingVarsKey struct {
	Key string `json:"key" jsonschema:"description=Thing key"`
}

type thingVarsPattern struct {
	ID string `json:"id" jsonschema:"description=Thing id,pattern=^T-[0-9]+$"`
}

type summaryArgs struct {
	ID   string `json:"id" jsonschema:"description=Thing id"`
	Tone string `json:"tone,omitempty" jsonschema:"description=Tone of the summary"`
}

type summaryArgsOwner struct {
	ID    string `json:"id" jsonschema:"description=Thing id"`
	Tone  string `json:"tone,omitempty" jsonschema:"description=Tone of the summary"`
	Owner string `json:"owner" jsonschema:"description=Owner"`
}

type summaryArgsLength struct {
	ID     string `json:"id" jsonschema:"description=Thing id"`
	Tone   string `json:"tone,omitempty" jsonschema:"description=Tone of the summary"`
	Length int    `json:"length,omitempty" jsonschema:"description=Words at most"`
}

type summaryArgsNoTone struct {
	ID string `json:"id" jsonschema:"description=Thing id"`
}

// entrySpec varies the resources, template and prompt of the reviewed
// server, each field one edit.
type entrySpec struct {
	statusName, statusURI, statusMIME string
	statusScopes                      []string
	noStatus                          bool
	template                          func(*mcpkit.Server, mcpkit.ResourceTemplate)
	templateURI                       string
	templatePublic                    bool
	noTemplate                        bool
	prompt                            func(*mcpkit.Server, mcpkit.Prompt)
	promptName                        string
	promptApproval                    mcpkit.ApprovalRule
	promptRedact                      []string
	promptDesc                        string
	noPrompt                          bool
	extra                             func(*mcpkit.Server)
}

func addTemplate[In any](s *mcpkit.Server, t mcpkit.ResourceTemplate) {
	mcpkit.MustAddResourceTemplate(s, t, func(context.Context, In) ([]*mcp.ResourceContents, error) { return nil, nil })
}

func addPrompt[In any](s *mcpkit.Server, p mcpkit.Prompt) {
	mcpkit.MustAddPrompt(s, p, func(context.Context, In) ([]*mcp.PromptMessage, error) { return nil, nil })
}

func readNothing(context.Context) ([]*mcp.ResourceContents, error) { return nil, nil }

func buildEntries(t *testing.T, sp entrySpec) *surfacediff.Surface {
	t.Helper()
	srv, err := mcpkit.NewServer(&mcp.Implementation{Name: "things", Version: "1"})
	require.NoError(t, err)
	add[getIn, thing](srv, mcpkit.Tool{Name: "get_thing", Description: "Get one thing.",
		Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Scopes: []string{"things:read"}}})
	if !sp.noStatus {
		require.NoError(t, mcpkit.AddResource(srv, mcpkit.Resource{
			URI: or(sp.statusURI, "things://status", sp.statusURI == ""), Name: or(sp.statusName, "status", sp.statusName == ""),
			Description: "The service's status.", MIMEType: or(sp.statusMIME, "application/json", sp.statusMIME == ""),
			Policy: mcpkit.Policy{Scopes: or(sp.statusScopes, []string{"things:read", "things:ops"}, sp.statusScopes == nil)},
		}, readNothing))
	}
	if !sp.noTemplate {
		tmpl := or(sp.template, addTemplate[thingVars], sp.template == nil)
		tmpl(srv, mcpkit.ResourceTemplate{URITemplate: or(sp.templateURI, "things://thing/{id}", sp.templateURI == ""),
			Name: "thing", Description: "One thing as JSON.", MIMEType: "application/json",
			Policy: mcpkit.Policy{Scopes: []string{"things:read"}, Public: sp.templatePublic}})
	}
	if !sp.noPrompt {
		prompt := or(sp.prompt, addPrompt[summaryArgs], sp.prompt == nil)
		prompt(srv, mcpkit.Prompt{Name: or(sp.promptName, "summarize_thing", sp.promptName == ""),
			Description: or(sp.promptDesc, "Summarize a thing.", sp.promptDesc == ""),
			Policy: mcpkit.Policy{Scopes: []string{"things:read"}, Approval: or(sp.promptApproval, mcpkit.ApprovalAlways(), sp.promptApproval.String() == "default"),
				Redact: or(sp.promptRedact, []string{"tone"}, sp.promptRedact == nil)}})
	}
	if sp.extra != nil {
		sp.extra(srv)
	}
	s, err := surfacediff.FromServer(srv)
	require.NoError(t, err)
	b, err := s.Marshal()
	require.NoError(t, err)
	back, err := surfacediff.Parse(b)
	require.NoError(t, err)
	return back
}

func TestCompareClassifiesResourceTemplateAndPromptChanges(t *testing.T) {
	cases := []struct {
		name string
		sp   entrySpec
		want string
		kind string
	}{
		// security review
		{"resource readable without a scope added", entrySpec{extra: func(s *mcpkit.Server) {
			require.NoError(t, mcpkit.AddResource(s, mcpkit.Resource{URI: "things://motd", Name: "motd", Description: "Message of the day.",
				Policy: mcpkit.Policy{Public: true}}, readNothing))
		}}, "resource motd: new resource readable without a scope (public) (security review)", "resource_added"},
		{"prompt readable without a scope added", entrySpec{extra: func(s *mcpkit.Server) {
			addPrompt[summaryArgs](s, mcpkit.Prompt{Name: "greet", Description: "Greet.", Policy: mcpkit.Policy{Public: true}})
		}}, "prompt greet: new prompt readable without a scope (public) (security review)", "prompt_added"},
		{"resource scope removed", entrySpec{statusScopes: []string{"things:read"}},
			"resource status: scope things:ops removed: callers without it may now use the resource (security review)", "scope_removed"},
		{"template made public", entrySpec{templatePublic: true},
			"resource template thing: made public: any authenticated caller may use it (security review)", "public_on"},
		{"prompt approval loosened", entrySpec{promptApproval: mcpkit.ApprovalNever()},
			"prompt summarize_thing: approval loosened from always to never (security review)", "approval_loosened"},
		{"prompt redaction removed", entrySpec{promptRedact: []string{}},
			"prompt summarize_thing: redaction of tone removed: audit records now keep its value (security review)", "redaction_removed"},
		{"resource renamed moves its flag", entrySpec{statusName: "health"},
			"resource health: feature flag changed from resource.status to resource.health: the old flag's setting no longer applies (security review)", "flag_key_changed"},

		// breaking for clients
		{"resource removed", entrySpec{noStatus: true},
			"resource status: resource removed: clients reading things://status get an unknown resource (breaking for clients)", "resource_removed"},
		{"template removed", entrySpec{noTemplate: true},
			"resource template thing: resource template removed: clients reading URIs of things://thing/{id} get an unknown resource (breaking for clients)", "resource_template_removed"},
		{"prompt removed", entrySpec{noPrompt: true},
			"prompt summarize_thing: prompt removed: clients getting it get an unknown prompt (breaking for clients)", "prompt_removed"},
		{"prompt renamed", entrySpec{promptName: "summarise_thing"},
			"prompt summarise_thing: renamed from summarize_thing: clients getting summarize_thing get an unknown prompt (breaking for clients)", "prompt_renamed"},
		{"template variable renamed", entrySpec{template: addTemplate[thingVarsKey], templateURI: "things://thing/{key}"},
			"resource template thing: URI template variable {id} renamed to {key} (things://thing/{key}, was things://thing/{id}) (breaking for clients)", "template_variable_renamed"},
		{"template literal changed", entrySpec{templateURI: "things://things/{id}"},
			"resource template thing: URI template changed from things://thing/{id} to things://things/{id}: URIs clients built no longer match (breaking for clients)", "uri_template_changed"},
		{"template variable narrowed", entrySpec{template: addTemplate[thingVarsPattern]},
			`resource template thing: variables.id: pattern changed from none to "^T-[0-9]+$": narrowed, calls that passed may be refused (breaking for clients)`, "constraint_narrowed"},
		{"new required prompt argument", entrySpec{prompt: addPrompt[summaryArgsOwner]},
			"prompt summarize_thing: new required input arguments.owner: calls without it are refused (breaking for clients)", "required_input_added"},
		{"prompt argument removed", entrySpec{prompt: addPrompt[summaryArgsNoTone], promptRedact: []string{}},
			"prompt summarize_thing: arguments.tone removed: calls that send it are refused as an unknown field (breaking for clients)", "property_removed"},
		{"resource URI changed", entrySpec{statusURI: "things://health"},
			"resource status: URI changed from things://status to things://health: clients reading things://status get an unknown resource (breaking for clients)", "uri_changed"},
		{"MIME type changed", entrySpec{statusMIME: "text/plain"},
			"resource status: MIME type changed from application/json to text/plain: clients may misread the contents (breaking for clients)", "mime_type_changed"},
		{"resource scope added", entrySpec{statusScopes: []string{"things:read", "things:ops", "things:admin"}},
			"resource status: now also requires scope things:admin: callers without it lose the resource (breaking for clients)", "scope_added"},

		// additive
		{"resource behind a scope added", entrySpec{extra: func(s *mcpkit.Server) {
			require.NoError(t, mcpkit.AddResource(s, mcpkit.Resource{URI: "things://stats", Name: "stats", Description: "Counts.",
				Policy: mcpkit.Policy{Scopes: []string{"things:read"}}}, readNothing))
		}}, "resource stats: new resource (scopes things:read) (additive)", "resource_added"},
		{"template behind a scope added", entrySpec{extra: func(s *mcpkit.Server) {
			addTemplate[thingVars](s, mcpkit.ResourceTemplate{URITemplate: "things://history/{id}", Name: "thing_history", Description: "History.",
				Policy: mcpkit.Policy{Scopes: []string{"things:read"}}})
		}}, "resource template thing_history: new resource template (scopes things:read) (additive)", "resource_template_added"},
		{"resource renamed under the same URI", entrySpec{statusName: "health"},
			"resource health: renamed from status (same URI things://status) (additive)", "resource_renamed"},
		{"new optional prompt argument", entrySpec{prompt: addPrompt[summaryArgsLength]},
			"prompt summarize_thing: new optional input arguments.length (additive)", "optional_input_added"},
		{"prompt description changed", entrySpec{promptDesc: "Summarize one thing for a reader."},
			"prompt summarize_thing: description changed (additive)", "description_changed"},
	}
	reviewed := buildEntries(t, entrySpec{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := surfacediff.Compare(reviewed, buildEntries(t, tc.sp))
			require.Contains(t, r.Lines(), tc.want, "report:\n%s", r)
			for _, c := range r.Changes {
				if c.String() == tc.want {
					assert.Equal(t, tc.kind, c.Kind)
					assert.NotEmpty(t, c.Entry, "a resource's or prompt's change must say what it is about")
				}
			}
			for i := 1; i < len(r.Changes); i++ {
				assert.GreaterOrEqual(t, r.Changes[i-1].Category, r.Changes[i].Category, "report out of order:\n%s", r)
			}
		})
	}
}

func TestEntriesRoundTripAndEqualSurfacesCompareEmpty(t *testing.T) {
	a, b := buildEntries(t, entrySpec{}), buildEntries(t, entrySpec{})
	assert.True(t, surfacediff.Compare(a, b).Empty())
	require.Len(t, a.Resources, 1)
	require.Len(t, a.Templates, 1)
	require.Len(t, a.Prompts, 1)
	assert.Equal(t, "things://thing/{id}", a.Templates[0].URITemplate)
	assert.Contains(t, string(a.Templates[0].Variables), `"id"`, "the template's variables schema is in the file")
	assert.Regexp(t, `"required":\s*\[\s*"id"\s*\]`, string(a.Prompts[0].Arguments))
	out, err := a.Marshal()
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(out), "{"), "a server with resources writes the object form")
	for _, key := range []string{`"resources"`, `"resource_templates"`, `"prompts"`, `"uri_template"`, `"mime_type"`} {
		assert.Contains(t, string(out), key)
	}
}

func TestToolOnlySurfaceKeepsTheListForm(t *testing.T) {
	out, err := build(t, spec{}).Marshal()
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(out), "["), "a tool-only server's file keeps the format reviewed before resources existed")
}

func TestParseRefusesBrokenEntries(t *testing.T) {
	base := `{"tools":[],%s}`
	pol := `"policy":{"risk":"read_only","scopes":["a"],"public":false,"approval":"never","flag_key":"resource.x","redact":[],"idempotent":false,"open_world":false}`
	for name, body := range map[string]string{
		"resource without URI": `"resources":[{"name":"x","description":"d",` + pol + `}]`,
		"resource twice":       `"resources":[{"name":"x","description":"d","uri":"a://b",` + pol + `},{"name":"x","description":"d","uri":"a://c",` + pol + `}]`,
		"template named as a resource": `"resources":[{"name":"x","description":"d","uri":"a://b",` + pol + `}],` +
			`"resource_templates":[{"name":"x","description":"d","uri_template":"a://{id}","variables":{},` + pol + `}]`,
		"prompt with a bad risk": `"prompts":[{"name":"p","description":"d","arguments":{},"policy":{"risk":"scary","scopes":[],"public":true,"approval":"never","flag_key":"prompt.p","redact":[],"idempotent":false,"open_world":false}}]`,
		"unknown field":          `"resources":[{"name":"x","description":"d","uri":"a://b","colour":"red",` + pol + `}]`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := surfacediff.Parse([]byte(strings.Replace(base, "%s", body, 1)))
			assert.ErrorIs(t, err, surfacediff.ErrFormat)
		})
	}
}
