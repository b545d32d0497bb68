package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

type idIn struct {
	ID string `json:"id" jsonschema:"description=Thing id"`
}

type idOwnerIn struct {
	ID    string `json:"id" jsonschema:"description=Thing id"`
	Owner string `json:"owner" jsonschema:"description=Owner"`
}

// surfaceFile writes the surface of a real server: delete_thing with the
// given approval rule, get_thing with In.
func surfaceFile[In any](t *testing.T, approval mcpkit.ApprovalRule, desc string) string {
	t.Helper()
	srv, err := mcpkit.NewServer(&mcp.Implementation{Name: "things", Version: "1"})
	require.NoError(t, err)
	h := func(context.Context, In) (struct{}, error) { return struct{}{}, nil }
	mcpkit.MustAddTool(srv, mcpkit.Tool{Name: "get_thing", Description: desc,
		Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Scopes: []string{"things:read"}}}, h)
	mcpkit.MustAddTool(srv, mcpkit.Tool{Name: "delete_thing", Description: "Delete a thing.",
		Policy: mcpkit.Policy{Risk: mcpkit.Destructive, Scopes: []string{"things:admin"}, Approval: approval}}, h)
	b, err := mcpkittest.Surface(srv)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "surface.json")
	require.NoError(t, os.WriteFile(path, b, 0o644))
	return path
}

func TestSurfacediffCommand(t *testing.T) {
	reviewed := surfaceFile[idIn](t, mcpkit.Policy{}.Approval, "Get a thing.")
	cases := []struct {
		name string
		args func() []string
		code int
		out  string
	}{
		{"no change", func() []string {
			return []string{reviewed, surfaceFile[idIn](t, mcpkit.Policy{}.Approval, "Get a thing.")}
		},
			0, "no change to the tool surface\n"},
		{"additive", func() []string {
			return []string{reviewed, surfaceFile[idIn](t, mcpkit.Policy{}.Approval, "Get one thing.")}
		},
			0, "get_thing: description changed (additive)\n"},
		{"breaking", func() []string {
			return []string{reviewed, surfaceFile[idOwnerIn](t, mcpkit.Policy{}.Approval, "Get a thing.")}
		},
			3, "delete_thing: new required input arguments.owner: calls without it are refused (breaking for clients)\n" +
				"get_thing: new required input arguments.owner: calls without it are refused (breaking for clients)\n"},
		{"security review first", func() []string {
			return []string{reviewed, surfaceFile[idOwnerIn](t, mcpkit.ApprovalNever(), "Get a thing.")}
		}, 4, "delete_thing: approval loosened from always to never (security review)\n" +
			"delete_thing: new required input arguments.owner: calls without it are refused (breaking for clients)\n" +
			"get_thing: new required input arguments.owner: calls without it are refused (breaking for clients)\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(tc.args(), nil, &out, &errOut)
			assert.Equal(t, tc.code, code, errOut.String())
			assert.Equal(t, tc.out, out.String())
		})
	}
}

func TestSurfacediffJSONMarkdownAndStdin(t *testing.T) {
	reviewed := surfaceFile[idIn](t, mcpkit.Policy{}.Approval, "Get a thing.")
	changed, err := os.ReadFile(surfaceFile[idIn](t, mcpkit.ApprovalNever(), "Get a thing."))
	require.NoError(t, err)

	var out bytes.Buffer
	require.Equal(t, 4, run([]string{"-json", reviewed, "-"}, bytes.NewReader(changed), &out, &out))
	var rep struct {
		Highest string `json:"highest"`
		Changes []struct {
			Category, Kind, Tool string
		} `json:"changes"`
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep), out.String())
	assert.Equal(t, "security-review", rep.Highest)
	require.Len(t, rep.Changes, 1)
	assert.Equal(t, "approval_loosened", rep.Changes[0].Kind)

	out.Reset()
	require.Equal(t, 4, run([]string{"-markdown", reviewed, "-"}, bytes.NewReader(changed), &out, &out))
	assert.Contains(t, out.String(), "- `delete_thing`: approval loosened from always to never\n")
}

func TestSurfacediffRefusesBadInput(t *testing.T) {
	reviewed := surfaceFile[idIn](t, mcpkit.Policy{}.Approval, "Get a thing.")
	garbage := filepath.Join(t.TempDir(), "x.json")
	require.NoError(t, os.WriteFile(garbage, []byte("golden mismatch"), 0o644))
	for name, args := range map[string][]string{
		"one file":      {reviewed},
		"not a surface": {reviewed, garbage},
		"missing file":  {reviewed, filepath.Join(t.TempDir(), "none.json")},
		"both stdin":    {"-", "-"},
		"both formats":  {"-json", "-markdown", reviewed, reviewed},
	} {
		t.Run(name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			assert.Equal(t, 2, run(args, strings.NewReader(""), &out, &errOut))
			assert.Empty(t, out.String())
			assert.NotEmpty(t, errOut.String())
		})
	}
	var out, errOut bytes.Buffer
	run([]string{reviewed, garbage}, nil, &out, &errOut)
	assert.Contains(t, errOut.String(), "is it a surface file written by mcpkittest?")
}
