package mcpkittest

import (
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
)

const (
	surfaceCheck = "golden/tool surface matches the reviewed file"
	policyCheck  = "golden/POLICY.md matches the policies"
)

type findIn struct {
	Query  string `json:"query" jsonschema:"description=Words to find"`
	Status string `json:"status,omitempty" jsonschema:"description=Status,enum=open,enum=closed"`
	Limit  int    `json:"limit,omitempty" jsonschema:"description=Page size,maximum=50"`
}

type findNoLimit struct {
	Query  string `json:"query" jsonschema:"description=Words to find"`
	Status string `json:"status,omitempty" jsonschema:"description=Status,enum=open,enum=closed"`
}

type findOwner struct {
	Query  string `json:"query" jsonschema:"description=Words to find"`
	Status string `json:"status,omitempty" jsonschema:"description=Status,enum=open,enum=closed"`
	Limit  int    `json:"limit,omitempty" jsonschema:"description=Page size,maximum=50"`
	Owner  string `json:"owner" jsonschema:"description=Owner"`
}

type findOpen struct {
	Query  string `json:"query" jsonschema:"description=Words to find"`
	Status string `json:"status,omitempty" jsonschema:"description=Status,enum=open"`
	Limit  int    `json:"limit,omitempty" jsonschema:"description=Page size,maximum=50"`
}

type findMore struct {
	Query  string `json:"query" jsonschema:"description=Words to find"`
	Status string `json:"status,omitempty" jsonschema:"description=Status,enum=open,enum=closed"`
	Limit  int    `json:"limit,omitempty" jsonschema:"description=Page size,maximum=100"`
	Owner  string `json:"owner,omitempty" jsonschema:"description=Owner"`
}

// knobs change one thing in reviewServer; zero values keep the reviewed
// version.
type knobs struct {
	risk     mcpkit.Risk
	scopes   []string
	redact   []string
	approval mcpkit.ApprovalRule
	find     func(*mcpkit.Server, mcpkit.Tool)
}

func addTool[In any](s *mcpkit.Server, t mcpkit.Tool) {
	mcpkit.MustAddTool(s, t, func(context.Context, In) (thing, error) { return thing{}, nil })
}

// reviewServer is a real server whose reviewed version has a read-only
// search, a write tool with a redacted field and a destructive tool.
func reviewServer(k knobs) Factory {
	return func(opts ...mcpkit.Option) (*mcpkit.Server, error) {
		srv, err := mcpkit.NewServer(&mcp.Implementation{Name: "things", Version: "1.0.0"}, opts...)
		if err != nil {
			return nil, err
		}
		find := k.find
		if find == nil {
			find = addTool[findIn]
		}
		find(srv, mcpkit.Tool{Name: "find_things", Description: "Find things.",
			Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Scopes: []string{"things:read"}}})
		risk, scopes, redact := k.risk, k.scopes, k.redact
		if risk == 0 {
			risk = mcpkit.Write
		}
		if scopes == nil {
			scopes = []string{"things:write", "things:owner"}
		}
		if redact == nil {
			redact = []string{"id"}
		}
		addTool[idIn](srv, mcpkit.Tool{Name: "update_thing", Description: "Update a thing.",
			Policy: mcpkit.Policy{Risk: risk, Scopes: scopes, Redact: redact}})
		addTool[idIn](srv, mcpkit.Tool{Name: "delete_thing", Description: "Delete a thing.",
			Policy: mcpkit.Policy{Risk: mcpkit.Destructive, Scopes: []string{"things:admin"}, Approval: k.approval}})
		return srv, nil
	}
}

// goldenOnly skips every check but the two golden ones.
func goldenOnly(t *testing.T) Config {
	opts := goldenOpts(t)
	opts.Skip = map[string]string{}
	for _, name := range CheckNames() {
		if name != surfaceCheck && name != policyCheck {
			opts.Skip[name] = "golden files only"
		}
	}
	return opts
}

// reviewed writes the golden files of the reviewed version and returns
// their contents.
func reviewed(t *testing.T, opts Config) (surface, policy []byte) {
	t.Helper()
	opts.Update = true
	r := runFake(t, reviewServer(knobs{}), opts)
	require.False(t, r.results[surfaceCheck].failed, "%v", r.results[surfaceCheck].messages)
	surface, err := os.ReadFile(opts.SurfaceFile)
	require.NoError(t, err)
	policy, err = os.ReadFile(opts.PolicyFile)
	require.NoError(t, err)
	return surface, policy
}

func messages(r *fakeRunner, name string) string { return strings.Join(r.results[name].messages, "\n") }

func TestGoldenCheckClassifiesAndGatesEachCategory(t *testing.T) {
	t.Setenv(AcceptEnv, "")
	cases := []struct {
		name   string
		k      knobs
		line   string
		accept string // "" for additive
	}{
		{"approval loosened", knobs{approval: mcpkit.ApprovalNever()},
			"delete_thing: approval loosened from always to never (security review)", "security-review"},
		{"risk raised", knobs{risk: mcpkit.Destructive},
			"update_thing: risk raised from write to destructive (security review)", "security-review,breaking"},
		{"scope removed", knobs{scopes: []string{"things:write"}},
			"update_thing: scope things:owner removed: callers without it may now use the tool (security review)", "security"},
		{"redaction removed", knobs{redact: []string{}},
			"update_thing: redaction of id removed: audit records now keep its value (security review)", "security-review"},
		{"property removed", knobs{find: addTool[findNoLimit]},
			"find_things: arguments.limit removed: calls that send it are refused as an unknown field (breaking for clients)", "breaking"},
		{"new required field", knobs{find: addTool[findOwner]},
			"find_things: new required input arguments.owner: calls without it are refused (breaking for clients)", "breaking"},
		{"narrowed enum", knobs{find: addTool[findOpen]},
			`find_things: arguments.status: enum narrowed, "closed" no longer accepted (breaking for clients)`, "breaking"},
		{"purely additive", knobs{find: addTool[findMore]},
			"find_things: new optional input arguments.owner (additive)", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := goldenOnly(t)
			surface, policy := reviewed(t, opts)
			changed := reviewServer(tc.k)

			// CI: the mismatch reads as the classified change.
			r := runFake(t, changed, opts)
			require.True(t, r.results[surfaceCheck].failed)
			msg := messages(r, surfaceCheck)
			assert.Contains(t, msg, "\n  "+tc.line+"\n")
			if tc.accept == "" {
				assert.Contains(t, msg, "all additive: accept with go test -run TestConformance -update,")
			} else {
				assert.Contains(t, msg, "-update -accept=")
			}

			// An update without the acknowledgement writes nothing.
			upd := opts
			upd.Update = true
			r = runFake(t, changed, upd)
			if tc.accept != "" {
				assert.True(t, r.results[surfaceCheck].failed)
				assert.Contains(t, messages(r, surfaceCheck), "not updated: the change needs an explicit acknowledgement")
				assert.True(t, r.results[policyCheck].failed)
				assert.Contains(t, messages(r, policyCheck), "not updated")
				assertFile(t, opts.SurfaceFile, surface)
				assertFile(t, opts.PolicyFile, policy)
				assert.NoFileExists(t, changeLogPath(opts))

				upd.Accept = tc.accept
				r = runFake(t, changed, upd)
			}
			require.False(t, r.results[surfaceCheck].failed, messages(r, surfaceCheck))
			require.False(t, r.results[policyCheck].failed, messages(r, policyCheck))
			assert.Contains(t, messages(r, surfaceCheck), "### Tool surface changes")

			// The accepted change is in POLICY.md and the section is
			// stable: the next CI run passes.
			md, err := os.ReadFile(opts.PolicyFile)
			require.NoError(t, err)
			assert.Contains(t, string(md), "\n## Changes since the last reviewed version\n")
			name, detail, _ := strings.Cut(tc.line, ": ")
			assert.Contains(t, string(md), "- `"+name+"`: "+detail+"\n")
			r = runFake(t, changed, opts)
			assert.False(t, r.results[surfaceCheck].failed, messages(r, surfaceCheck))
			assert.False(t, r.results[policyCheck].failed, messages(r, policyCheck))
		})
	}
}

func assertFile(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got), "%s was rewritten", path)
}

func TestAcknowledgementMustNameEveryCategory(t *testing.T) {
	t.Setenv(AcceptEnv, "")
	opts := goldenOnly(t)
	surface, _ := reviewed(t, opts)
	// Both a security change and a breaking one.
	changed := reviewServer(knobs{approval: mcpkit.ApprovalNever(), find: addTool[findNoLimit]})
	upd := opts
	upd.Update, upd.Accept = true, "breaking"
	r := runFake(t, changed, upd)
	assert.True(t, r.results[surfaceCheck].failed)
	assert.Contains(t, messages(r, surfaceCheck), "acknowledgement (security-review)")
	assertFile(t, opts.SurfaceFile, surface)

	// The environment variable acknowledges as well as the option.
	t.Setenv(AcceptEnv, "breaking,security-review")
	upd.Accept = ""
	r = runFake(t, changed, upd)
	require.False(t, r.results[surfaceCheck].failed, messages(r, surfaceCheck))

	b, err := os.ReadFile(changeLogPath(opts))
	require.NoError(t, err)
	var l changeLog
	require.NoError(t, json.Unmarshal(b, &l))
	require.Len(t, l.Reviews, 1)
	assert.Equal(t, digest(surface), l.Reviews[0].From)
	assert.Equal(t, "security-review", l.Reviews[0].Categories[0].Name())
	assert.Equal(t, "approval_loosened", l.Reviews[0].Changes[0].Kind)
}

func TestAcceptOptionErrors(t *testing.T) {
	t.Setenv(AcceptEnv, "")
	opts := goldenOnly(t)
	reviewed(t, opts)
	bad := opts
	bad.Accept = "security-review" // without Update
	r := runFake(t, reviewServer(knobs{}), bad)
	assert.True(t, r.results[surfaceCheck].failed)
	assert.Contains(t, messages(r, surfaceCheck), "is set without Update")

	bad.Update, bad.Accept = true, "everything"
	r = runFake(t, reviewServer(knobs{}), bad)
	assert.True(t, r.results[surfaceCheck].failed)
	assert.Contains(t, messages(r, surfaceCheck), `unknown change category "everything"`)
}

func TestUnreadableReviewedSurfaceIsAClearError(t *testing.T) {
	t.Setenv(AcceptEnv, "")
	opts := goldenOnly(t)
	reviewed(t, opts)
	require.NoError(t, os.WriteFile(opts.SurfaceFile, []byte(`[{"name":"get_x","policy":{"risk":"mostly harmless"}}]`), 0o644))
	for _, update := range []bool{false, true} {
		o := opts
		o.Update, o.Accept = update, map[bool]string{true: "breaking,security-review"}[update]
		r := runFake(t, reviewServer(knobs{}), o)
		assert.True(t, r.results[surfaceCheck].failed)
		msg := messages(r, surfaceCheck)
		assert.Contains(t, msg, "cannot be read as a surface file, so the change cannot be classified")
		assert.Contains(t, msg, `risk "mostly harmless" is not one of read_only, write, destructive`)
	}
	got, err := os.ReadFile(opts.SurfaceFile)
	require.NoError(t, err)
	assert.Contains(t, string(got), "mostly harmless", "an unreadable file is left for a human")
}

func TestChangeLogDefaultsNextToTheSurfaceFile(t *testing.T) {
	assert.Equal(t, filepath.Join("testdata", "surface.changes.json"), changeLogPath(Config{SurfaceFile: filepath.Join("testdata", "surface.json")}))
	assert.Equal(t, "x.json", changeLogPath(Config{SurfaceFile: "s.json", ChangeLog: "x.json"}))
	assert.Empty(t, changeLogPath(Config{}))
}
