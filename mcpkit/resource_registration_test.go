package mcpkit_test

import (
	"context"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

type pageRef struct {
	Space string `json:"space" jsonschema:"description=Space key"`
	Page  int    `json:"page" jsonschema:"description=Page number,minimum=1"`
}

type objectArg struct {
	Filter struct {
		Q string `json:"q" jsonschema:"description=Query"`
	} `json:"filter" jsonschema:"description=Filter"`
}

func readPage(context.Context, pageRef) ([]*mcp.ResourceContents, error) {
	return []*mcp.ResourceContents{{Text: "page"}}, nil
}

func readFixed(context.Context) ([]*mcp.ResourceContents, error) {
	return []*mcp.ResourceContents{{Text: "fixed"}}, nil
}

func renderPrompt[In any](context.Context, In) ([]*mcp.PromptMessage, error) {
	return []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: "hi"}}}, nil
}

func newBareServer(t *testing.T) *mcpkit.Server {
	t.Helper()
	srv, err := mcpkit.NewServer(&mcp.Implementation{Name: "reg", Version: "1"})
	require.NoError(t, err)
	return srv
}

// Every mistake in a resource, template or prompt is an error at
// registration, naming what to fix; nothing panics and nothing is added.
func TestResourceAndPromptRegistrationRefusesMistakes(t *testing.T) {
	pub := mcpkit.Policy{Public: true}
	cases := map[string]struct {
		add  func(*mcpkit.Server) error
		want string
	}{
		"write risk": {func(s *mcpkit.Server) error {
			return mcpkit.AddResource(s, mcpkit.Resource{URI: "a://b", Name: "b", Description: "B.", Policy: mcpkit.Policy{Risk: mcpkit.Write, Public: true}}, readFixed)
		}, "read-only by nature"},
		"destructive prompt": {func(s *mcpkit.Server) error {
			return mcpkit.AddPrompt(s, mcpkit.Prompt{Name: "p", Description: "P.", Policy: mcpkit.Policy{Risk: mcpkit.Destructive, Public: true}}, renderPrompt[documented])
		}, "read-only by nature"},
		"no scopes nor public": {func(s *mcpkit.Server) error {
			return mcpkit.AddResource(s, mcpkit.Resource{URI: "a://b", Name: "b", Description: "B."}, readFixed)
		}, "declare the Scopes"},
		"bad scope": {func(s *mcpkit.Server) error {
			return mcpkit.AddPrompt(s, mcpkit.Prompt{Name: "p", Description: "P.", Policy: mcpkit.Policy{Scopes: []string{"a b"}}}, renderPrompt[documented])
		}, "non-empty token"},
		"relative URI": {func(s *mcpkit.Server) error {
			return mcpkit.AddResource(s, mcpkit.Resource{URI: "runbook", Name: "b", Description: "B.", Policy: pub}, readFixed)
		}, "absolute URI"},
		"no description": {func(s *mcpkit.Server) error {
			return mcpkit.AddResource(s, mcpkit.Resource{URI: "a://b", Name: "b", Policy: pub}, readFixed)
		}, "a description is required"},
		"bad name": {func(s *mcpkit.Server) error {
			return mcpkit.AddPrompt(s, mcpkit.Prompt{Name: "Post Mortem", Description: "P.", Policy: pub}, renderPrompt[documented])
		}, "lower snake_case"},
		"nil handler": {func(s *mcpkit.Server) error {
			return mcpkit.AddResource(s, mcpkit.Resource{URI: "a://b", Name: "b", Description: "B.", Policy: pub}, nil)
		}, "handler is nil"},
		"reserved expansion": {func(s *mcpkit.Server) error {
			return mcpkit.AddResourceTemplate(s, mcpkit.ResourceTemplate{URITemplate: "file:///{+path}", Name: "f", Description: "F.", Policy: pub}, readPage)
		}, "only simple expressions"},
		"no variable": {func(s *mcpkit.Server) error {
			return mcpkit.AddResourceTemplate(s, mcpkit.ResourceTemplate{URITemplate: "wiki://home", Name: "f", Description: "F.", Policy: pub}, readPage)
		}, "has no {variable}"},
		"adjacent variables": {func(s *mcpkit.Server) error {
			return mcpkit.AddResourceTemplate(s, mcpkit.ResourceTemplate{URITemplate: "wiki://{space}{page}", Name: "f", Description: "F.", Policy: pub}, readPage)
		}, "ambiguous"},
		"variable without field": {func(s *mcpkit.Server) error {
			return mcpkit.AddResourceTemplate(s, mcpkit.ResourceTemplate{URITemplate: "wiki://{space}/{id}", Name: "f", Description: "F.", Policy: pub}, readPage)
		}, "variable {id} is not a field"},
		"field without variable": {func(s *mcpkit.Server) error {
			return mcpkit.AddResourceTemplate(s, mcpkit.ResourceTemplate{URITemplate: "wiki://{space}", Name: "f", Description: "F.", Policy: pub}, readPage)
		}, "input field page is not a variable"},
		"object argument": {func(s *mcpkit.Server) error {
			return mcpkit.AddPrompt(s, mcpkit.Prompt{Name: "p", Description: "P.", Policy: pub}, renderPrompt[objectArg])
		}, "the values arrive as strings"},
		"undocumented argument": {func(s *mcpkit.Server) error {
			return mcpkit.AddPrompt(s, mcpkit.Prompt{Name: "p", Description: "P.", Policy: pub}, renderPrompt[undocumentedIn])
		}, "every property needs a description"},
		"headers": {func(s *mcpkit.Server) error {
			return mcpkit.AddPrompt(s, mcpkit.Prompt{Name: "p", Description: "P.", Policy: mcpkit.Policy{Public: true, Headers: map[string]string{"id": "Id"}}}, renderPrompt[documented])
		}, "a prompt has none"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv := newBareServer(t)
			var err error
			assert.NotPanics(t, func() { err = tc.add(srv) })
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Empty(t, srv.Resources())
			assert.Empty(t, srv.Prompts())
		})
	}
}

func TestResourceAndPromptNamesAndURIsAreUnique(t *testing.T) {
	srv := newBareServer(t)
	pub := mcpkit.Policy{Public: true}
	require.NoError(t, mcpkit.AddResource(srv, mcpkit.Resource{URI: "a://b", Name: "b", Description: "B.", Policy: pub}, readFixed))
	assert.ErrorContains(t, mcpkit.AddResource(srv, mcpkit.Resource{URI: "a://c", Name: "b", Description: "B.", Policy: pub}, readFixed), "already registered")
	assert.ErrorContains(t, mcpkit.AddResource(srv, mcpkit.Resource{URI: "a://b", Name: "c", Description: "B.", Policy: pub}, readFixed), "already registered")
	require.NoError(t, mcpkit.AddResourceTemplate(srv, mcpkit.ResourceTemplate{URITemplate: "wiki://{space}/{page}", Name: "page", Description: "P.", Policy: pub}, readPage))
	assert.ErrorContains(t, mcpkit.AddResourceTemplate(srv, mcpkit.ResourceTemplate{URITemplate: "wiki://{space}/{page}", Name: "page2", Description: "P.", Policy: pub}, readPage), "already registered")
	require.NoError(t, mcpkit.AddPrompt(srv, mcpkit.Prompt{Name: "b", Description: "P.", Policy: pub}, renderPrompt[documented]), "prompts have their own names")
	assert.ErrorContains(t, mcpkit.AddPrompt(srv, mcpkit.Prompt{Name: "b", Description: "P.", Policy: pub}, renderPrompt[documented]), "already registered")
	assert.Panics(t, func() {
		mcpkit.MustAddPrompt(srv, mcpkit.Prompt{Name: "b", Description: "P.", Policy: pub}, renderPrompt[documented])
	})

	res := srv.Resources()
	require.Len(t, res, 2)
	assert.Equal(t, mcpkit.KindResource, res[0].Kind)
	assert.Equal(t, mcpkit.ReadOnly, res[0].Policy.Risk, "a zero risk is read-only for a resource")
	assert.Equal(t, mcpkit.KindResourceTemplate, res[1].Kind)
	assert.Equal(t, "wiki://{space}/{page}", res[1].URI)
	assert.Equal(t, "resource page", res[1].Label())
	res[1].Policy.Scopes = append(res[1].Policy.Scopes, "x")
	assert.Empty(t, srv.Resources()[1].Policy.Scopes, "a copy changes nothing the server enforces")
	require.Len(t, srv.Prompts(), 1)
	assert.Equal(t, mcpkit.KindPrompt, srv.Prompts()[0].Kind)
}
