package surfacediff_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest/surfacediff"
)

// The servers below are real mcpkit servers: the schemas are the ones
// mcpkit generates from Go types, the policies the ones it resolves.

type getIn struct {
	ID string `json:"id" jsonschema:"description=Thing id,pattern=^T-[0-9]+$"`
}

type thing struct {
	ID   string `json:"id" jsonschema:"description=Thing id"`
	Name string `json:"name" jsonschema:"description=Thing name"`
}

type thingRetyped struct {
	ID   string `json:"id" jsonschema:"description=Thing id"`
	Name int    `json:"name" jsonschema:"description=Thing name"`
}

type thingShort struct {
	ID string `json:"id" jsonschema:"description=Thing id"`
}

type filter struct {
	Service string   `json:"service,omitempty" jsonschema:"description=Service name"`
	Tags    []string `json:"tags,omitempty" jsonschema:"description=Tags,enum=red,enum=green,enum=blue"`
}

type filterNarrow struct {
	Service string   `json:"service,omitempty" jsonschema:"description=Service name"`
	Tags    []string `json:"tags,omitempty" jsonschema:"description=Tags,enum=red,enum=green"`
}

type filterNoService struct {
	Tags []string `json:"tags,omitempty" jsonschema:"description=Tags,enum=red,enum=green,enum=blue"`
}

type searchIn struct {
	Query  string `json:"query" jsonschema:"description=Words to find,maxLength=200"`
	Status string `json:"status,omitempty" jsonschema:"description=Status,enum=open,enum=closed"`
	Limit  int    `json:"limit,omitempty" jsonschema:"description=Page size,minimum=1,maximum=50"`
	Filter filter `json:"filter,omitempty" jsonschema:"description=Filter"`
}

type searchNoLimit struct {
	Query  string `json:"query" jsonschema:"description=Words to find,maxLength=200"`
	Status string `json:"status,omitempty" jsonschema:"description=Status,enum=open,enum=closed"`
	Filter filter `json:"filter,omitempty" jsonschema:"description=Filter"`
}

type searchRequiredOwner struct {
	Query  string `json:"query" jsonschema:"description=Words to find,maxLength=200"`
	Status string `json:"status,omitempty" jsonschema:"description=Status,enum=open,enum=closed"`
	Limit  int    `json:"limit,omitempty" jsonschema:"description=Page size,minimum=1,maximum=50"`
	Filter filter `json:"filter,omitempty" jsonschema:"description=Filter"`
	Owner  string `json:"owner" jsonschema:"description=Owner"`
}

type searchOptionalOwner struct {
	Query  string `json:"query" jsonschema:"description=Words to find,maxLength=200"`
	Status string `json:"status,omitempty" jsonschema:"description=Status,enum=open,enum=closed,enum=snoozed"`
	Limit  int    `json:"limit,omitempty" jsonschema:"description=Page size,minimum=1,maximum=100"`
	Filter filter `json:"filter,omitempty" jsonschema:"description=Filter"`
	Owner  string `json:"owner,omitempty" jsonschema:"description=Owner"`
}

type searchNarrowEnum struct {
	Query  string `json:"query" jsonschema:"description=Words to find,maxLength=200"`
	Status string `json:"status,omitempty" jsonschema:"description=Status,enum=open"`
	Limit  int    `json:"limit,omitempty" jsonschema:"description=Page size,minimum=1,maximum=20"`
	Filter filter `json:"filter,omitempty" jsonschema:"description=Filter"`
}

type searchPattern struct {
	Query  string `json:"query" jsonschema:"description=Words to find,maxLength=100,pattern=^[a-z ]+$"`
	Status string `json:"status,omitempty" jsonschema:"description=Status,enum=open,enum=closed"`
	Limit  int    `json:"limit,omitempty" jsonschema:"description=Page size,minimum=1,maximum=50"`
	Filter filter `json:"filter,omitempty" jsonschema:"description=Filter"`
}

type searchNested struct {
	Query  string          `json:"query" jsonschema:"description=Words to find,maxLength=200"`
	Status string          `json:"status,omitempty" jsonschema:"description=Status,enum=open,enum=closed"`
	Limit  int             `json:"limit,omitempty" jsonschema:"description=Page size,minimum=1,maximum=50"`
	Filter filterNoService `json:"filter,omitempty" jsonschema:"description=Filter"`
}

type searchItems struct {
	Query  string       `json:"query" jsonschema:"description=Words to find,maxLength=200"`
	Status string       `json:"status,omitempty" jsonschema:"description=Status,enum=open,enum=closed"`
	Limit  int          `json:"limit,omitempty" jsonschema:"description=Page size,minimum=1,maximum=50"`
	Filter filterNarrow `json:"filter,omitempty" jsonschema:"description=Filter"`
}

type searchRenamed struct {
	Text   string `json:"text" jsonschema:"description=Words to find,maxLength=200"`
	Status string `json:"status,omitempty" jsonschema:"description=Status,enum=open,enum=closed"`
	Limit  int    `json:"limit,omitempty" jsonschema:"description=Page size,minimum=1,maximum=50"`
	Filter filter `json:"filter,omitempty" jsonschema:"description=Filter"`
}

type updateIn struct {
	ID     string `json:"id" jsonschema:"description=Thing id"`
	Note   string `json:"note" jsonschema:"description=Note"`
	Secret string `json:"secret,omitempty" jsonschema:"description=Secret" mcpkit:"redact"`
}

type updateUntagged struct {
	ID     string `json:"id" jsonschema:"description=Thing id"`
	Note   string `json:"note" jsonschema:"description=Note"`
	Secret string `json:"secret,omitempty" jsonschema:"description=Secret"`
}

// spec describes one version of a small server; each field left zero
// takes the reviewed version's value.
type spec struct {
	updateRisk     mcpkit.Risk
	updateScopes   []string
	updateRedact   []string
	updateFlag     string
	updateApproval mcpkit.ApprovalRule
	updateIdem     bool
	deleteApproval mcpkit.ApprovalRule
	deleteScopes   []string
	getPublic      bool
	getDesc        string
	get            func(*mcpkit.Server, mcpkit.Tool)
	search         func(*mcpkit.Server, mcpkit.Tool)
	update         func(*mcpkit.Server, mcpkit.Tool)
	deleteName     string
	extra          func(*mcpkit.Server)
}

func add[In, Out any](s *mcpkit.Server, t mcpkit.Tool) {
	mcpkit.MustAddTool(s, t, func(context.Context, In) (Out, error) { var o Out; return o, nil })
}

func or[T any](v, def T, zero bool) T {
	if zero {
		return def
	}
	return v
}

func build(t *testing.T, sp spec) *surfacediff.Surface {
	t.Helper()
	srv, err := mcpkit.NewServer(&mcp.Implementation{Name: "things", Version: "1"})
	require.NoError(t, err)
	get := or(sp.get, add[getIn, thing], sp.get == nil)
	search := or(sp.search, add[searchIn, thing], sp.search == nil)
	update := or(sp.update, add[updateIn, thing], sp.update == nil)
	get(srv, mcpkit.Tool{Name: "get_thing", Title: "Get a thing", Description: or(sp.getDesc, "Get one thing.", sp.getDesc == ""),
		Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Scopes: []string{"things:read"}, Public: sp.getPublic}})
	search(srv, mcpkit.Tool{Name: "search_things", Description: "Search things.",
		Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Scopes: []string{"things:read"}}})
	update(srv, mcpkit.Tool{Name: "update_thing", Description: "Update a thing.",
		Policy: mcpkit.Policy{Risk: or(sp.updateRisk, mcpkit.Write, sp.updateRisk == 0),
			Scopes:     or(sp.updateScopes, []string{"things:write", "things:owner"}, sp.updateScopes == nil),
			Redact:     or(sp.updateRedact, []string{"note"}, sp.updateRedact == nil),
			FlagKey:    sp.updateFlag,
			Approval:   sp.updateApproval,
			Idempotent: sp.updateIdem}})
	add[getIn, thingShort](srv, mcpkit.Tool{Name: or(sp.deleteName, "delete_thing", sp.deleteName == ""), Description: "Delete a thing.",
		Policy: mcpkit.Policy{Risk: mcpkit.Destructive, Scopes: or(sp.deleteScopes, []string{"things:admin"}, sp.deleteScopes == nil),
			Approval: sp.deleteApproval}})
	if sp.extra != nil {
		sp.extra(srv)
	}
	s, err := surfacediff.FromServer(srv)
	require.NoError(t, err)
	// What the classifier reads is what the golden file holds.
	b, err := s.Marshal()
	require.NoError(t, err)
	back, err := surfacediff.Parse(b)
	require.NoError(t, err)
	return back
}

func TestCompareClassifiesEveryKindOfChange(t *testing.T) {
	when := mcpkit.ApprovalWhen("id is not a test thing", func(in getIn) bool { return !strings.HasPrefix(in.ID, "T-9") })
	cases := []struct {
		name string
		sp   spec
		want string // one line of the report, exactly
		kind string
	}{
		// security review
		{"risk raised", spec{updateRisk: mcpkit.Destructive},
			"update_thing: risk raised from write to destructive (security review)", "risk_raised"},
		{"approval loosened always to never", spec{deleteApproval: mcpkit.ApprovalNever()},
			"delete_thing: approval loosened from always to never (security review)", "approval_loosened"},
		{"approval loosened always to when", spec{deleteApproval: when},
			"delete_thing: approval loosened from always to when id is not a test thing (security review)", "approval_loosened"},
		{"scope removed", spec{updateScopes: []string{"things:write"}},
			"update_thing: scope things:owner removed: callers without it may now use the tool (security review)", "scope_removed"},
		{"scope replaced", spec{deleteScopes: []string{"things:write"}},
			"delete_thing: scope things:admin replaced by things:write (security review)", "scope_replaced"},
		{"public turned on", spec{getPublic: true},
			"get_thing: made public: any authenticated caller may use it (security review)", "public_on"},
		{"flag default turned on", spec{updateRisk: mcpkit.ReadOnly},
			"update_thing: flag default turned on: the tool is enabled where its flag is not defined (security review)", "flag_default_on"},
		{"risk lowered", spec{updateRisk: mcpkit.ReadOnly},
			"update_thing: risk lowered from write to read-only: clients and defaults now treat it as less dangerous (security review)", "risk_lowered"},
		{"flag key changed", spec{updateFlag: "rollout.update"},
			"update_thing: feature flag changed from tool.update_thing to rollout.update: the old flag's setting no longer applies (security review)", "flag_key_changed"},
		{"redaction path removed", spec{updateRedact: []string{}},
			"update_thing: redaction of note removed: audit records now keep its value (security review)", "redaction_removed"},
		{"redaction tag removed", spec{update: add[updateUntagged, thing]},
			"update_thing: redaction of secret removed: audit records now keep its value (security review)", "redaction_removed"},
		{"write tool added", spec{extra: func(s *mcpkit.Server) {
			add[getIn, thing](s, mcpkit.Tool{Name: "create_thing", Description: "Create.", Policy: mcpkit.Policy{Risk: mcpkit.Write, Scopes: []string{"things:write"}}})
		}}, "create_thing: new write tool (scopes things:write; approval never) (security review)", "tool_added"},
		{"destructive tool added", spec{extra: func(s *mcpkit.Server) {
			add[getIn, thing](s, mcpkit.Tool{Name: "purge_thing", Description: "Purge.", Policy: mcpkit.Policy{Risk: mcpkit.Destructive, Scopes: []string{"things:admin"}}})
		}}, "purge_thing: new destructive tool (scopes things:admin; approval always (default for destructive tools)) (security review)", "tool_added"},
		{"idempotent turned on", spec{updateIdem: true},
			"update_thing: now declared idempotent: clients may retry it (security review)", "idempotent_on"},

		// breaking for clients
		{"tool removed", spec{extra: nil, deleteName: "delete_thing", get: func(*mcpkit.Server, mcpkit.Tool) {}},
			"get_thing: tool removed: clients calling it get an unknown tool (breaking for clients)", "tool_removed"},
		{"tool renamed", spec{deleteName: "remove_thing"},
			"remove_thing: renamed from delete_thing: clients calling delete_thing get an unknown tool (breaking for clients)", "tool_renamed"},
		{"property removed", spec{search: add[searchNoLimit, thing]},
			"search_things: arguments.limit removed: calls that send it are refused as an unknown field (breaking for clients)", "property_removed"},
		{"property renamed", spec{search: add[searchRenamed, thing]},
			"search_things: arguments.query renamed to arguments.text (breaking for clients)", "property_renamed"},
		{"nested property removed", spec{search: add[searchNested, thing]},
			"search_things: arguments.filter.service removed: calls that send it are refused as an unknown field (breaking for clients)", "property_removed"},
		{"new required field", spec{search: add[searchRequiredOwner, thing]},
			"search_things: new required input arguments.owner: calls without it are refused (breaking for clients)", "required_input_added"},
		{"narrowed enum", spec{search: add[searchNarrowEnum, thing]},
			`search_things: arguments.status: enum narrowed, "closed" no longer accepted (breaking for clients)`, "enum_narrowed"},
		{"narrowed range", spec{search: add[searchNarrowEnum, thing]},
			"search_things: arguments.limit: maximum changed from 50 to 20: narrowed, calls that passed may be refused (breaking for clients)", "constraint_narrowed"},
		{"narrowed enum in array items", spec{search: add[searchItems, thing]},
			`search_things: arguments.filter.tags[]: enum narrowed, "blue" no longer accepted (breaking for clients)`, "enum_narrowed"},
		{"pattern added", spec{search: add[searchPattern, thing]},
			"search_things: arguments.query: pattern changed from none to \"^[a-z ]+$\": narrowed, calls that passed may be refused (breaking for clients)", "constraint_narrowed"},
		{"length narrowed", spec{search: add[searchPattern, thing]},
			"search_things: arguments.query: maxLength changed from 200 to 100: narrowed, calls that passed may be refused (breaking for clients)", "constraint_narrowed"},
		{"output property removed", spec{get: add[getIn, thingShort]},
			"get_thing: result.name removed from the result: clients reading it find nothing (breaking for clients)", "property_removed"},
		{"output property type changed", spec{get: add[getIn, thingRetyped]},
			"get_thing: result.name: type changed from string to integer: clients may misread results (breaking for clients)", "type_changed"},
		{"approval tightened", spec{updateApproval: mcpkit.ApprovalAlways()},
			"update_thing: approval tightened from never to always: calls that ran unattended now wait for a human (breaking for clients)", "approval_tightened"},
		{"scope added", spec{deleteScopes: []string{"things:admin", "things:owner"}},
			"delete_thing: now also requires scope things:owner: callers without it lose the tool (breaking for clients)", "scope_added"},

		// additive
		{"new optional input", spec{search: add[searchOptionalOwner, thing]},
			"search_things: new optional input arguments.owner (additive)", "optional_input_added"},
		{"widened enum", spec{search: add[searchOptionalOwner, thing]},
			`search_things: arguments.status: enum widened, now also accepts "snoozed" (additive)`, "enum_widened"},
		{"widened range", spec{search: add[searchOptionalOwner, thing]},
			"search_things: arguments.limit: maximum changed from 50 to 100: widened (additive)", "constraint_widened"},
		{"new read-only tool", spec{extra: func(s *mcpkit.Server) {
			add[getIn, thing](s, mcpkit.Tool{Name: "count_things", Description: "Count.", Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Scopes: []string{"things:read"}}})
		}}, "count_things: new read-only tool (scopes things:read) (additive)", "tool_added"},
		{"description changed", spec{getDesc: "Get one thing by its id."},
			"get_thing: description changed (additive)", "description_changed"},
	}
	reviewed := build(t, spec{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := surfacediff.Compare(reviewed, build(t, tc.sp))
			require.Contains(t, r.Lines(), tc.want, "report:\n%s", r)
			for _, c := range r.Changes {
				if c.String() == tc.want {
					assert.Equal(t, tc.kind, c.Kind)
				}
			}
			// Most severe first.
			for i := 1; i < len(r.Changes); i++ {
				assert.GreaterOrEqual(t, r.Changes[i-1].Category, r.Changes[i].Category, "report out of order:\n%s", r)
			}
		})
	}
}

func TestCompareOfEqualSurfacesIsEmpty(t *testing.T) {
	r := surfacediff.Compare(build(t, spec{}), build(t, spec{}))
	assert.True(t, r.Empty(), "report:\n%s", r)
	assert.Zero(t, r.Highest())
}

func TestPurelyAdditiveChangesNeedNoAcknowledgement(t *testing.T) {
	r := surfacediff.Compare(build(t, spec{}), build(t, spec{search: add[searchOptionalOwner, thing], getDesc: "Get one thing by its id."}))
	require.False(t, r.Empty())
	assert.Equal(t, surfacediff.Additive, r.Highest(), "report:\n%s", r)
	assert.Empty(t, r.Unaccepted(nil))
}

func TestSecurityChangeOutranksEverythingAndNeedsItsOwnAcknowledgement(t *testing.T) {
	r := surfacediff.Compare(build(t, spec{}), build(t, spec{deleteApproval: mcpkit.ApprovalNever(), search: add[searchNoLimit, thing], getDesc: "Other."}))
	require.Len(t, r.Changes, 3, "report:\n%s", r)
	assert.Equal(t, "delete_thing: approval loosened from always to never (security review)", r.Lines()[0])
	assert.Equal(t, surfacediff.Additive, r.Changes[2].Category)
	assert.Equal(t, []surfacediff.Category{surfacediff.SecurityReview, surfacediff.Breaking}, r.Unaccepted(nil))
	assert.Equal(t, []surfacediff.Category{surfacediff.SecurityReview}, r.Unaccepted([]surfacediff.Category{surfacediff.Breaking}))
	assert.Empty(t, r.Unaccepted([]surfacediff.Category{surfacediff.Breaking, surfacediff.SecurityReview}))
}

func TestReportJSONAndMarkdown(t *testing.T) {
	r := surfacediff.Compare(build(t, spec{}), build(t, spec{deleteApproval: mcpkit.ApprovalNever(), getDesc: "Other."}))
	b, err := r.JSON()
	require.NoError(t, err)
	var got struct {
		Highest string               `json:"highest"`
		Changes []surfacediff.Change `json:"changes"`
	}
	require.NoError(t, json.Unmarshal(b, &got))
	assert.Equal(t, "security-review", got.Highest)
	require.Len(t, got.Changes, 2)
	assert.Equal(t, surfacediff.Change{Category: surfacediff.SecurityReview, Kind: "approval_loosened", Tool: "delete_thing",
		From: "always (default for destructive tools)", To: "never", Detail: "approval loosened from always to never"}, got.Changes[0])
	assert.Contains(t, string(b), `"category": "security-review"`)

	md := r.Markdown()
	assert.Contains(t, md, "1 security review, 1 additive.")
	assert.Contains(t, md, "**Security review**\n\n- `delete_thing`: approval loosened from always to never\n")
	assert.Less(t, strings.Index(md, "Security review"), strings.Index(md, "**Additive**"))
}
