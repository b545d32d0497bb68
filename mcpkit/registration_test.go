package mcpkit_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

type documented struct {
	ID string `json:"id" jsonschema:"description=The id"`
}

type undocumentedIn struct {
	ID   string `json:"id" jsonschema:"description=The id"`
	Note string `json:"note"`
}

type recursive struct {
	Name     string       `json:"name" jsonschema:"description=Name"`
	Children []*recursive `json:"children" jsonschema:"description=Children"`
}

type secretIn struct {
	User     string `json:"user" jsonschema:"description=User"`
	Password string `json:"password" mcpkit:"redact" jsonschema:"description=Password"`
	Nested   struct {
		Token string `json:"token" mcpkit:"redact" jsonschema:"description=Token"`
	} `json:"nested" jsonschema:"description=Nested"`
}

func noop[In any](context.Context, In) (documented, error) { return documented{}, nil }

func TestRegistrationRejectsBadTools(t *testing.T) {
	read := mcpkit.Policy{Risk: mcpkit.ReadOnly, Public: true}
	cases := []struct {
		name string
		add  func(*mcpkit.Server) error
		want string
	}{
		{"camel case name", func(s *mcpkit.Server) error {
			return mcpkit.AddTool(s, mcpkit.Tool{Name: "getThing", Description: "d.", Policy: read}, noop[documented])
		}, "lower snake_case"},
		{"no verb", func(s *mcpkit.Server) error {
			return mcpkit.AddTool(s, mcpkit.Tool{Name: "thing_getter", Description: "d.", Policy: read}, noop[documented])
		}, "must start with a verb"},
		{"double underscore", func(s *mcpkit.Server) error {
			return mcpkit.AddTool(s, mcpkit.Tool{Name: "get__thing", Description: "d.", Policy: read}, noop[documented])
		}, "lower snake_case"},
		{"too long", func(s *mcpkit.Server) error {
			return mcpkit.AddTool(s, mcpkit.Tool{Name: "get_" + strings.Repeat("a", 61), Description: "d.", Policy: read}, noop[documented])
		}, "longer than 64"},
		{"no description", func(s *mcpkit.Server) error {
			return mcpkit.AddTool(s, mcpkit.Tool{Name: "get_thing", Policy: read}, noop[documented])
		}, "a description is required"},
		{"two paragraphs", func(s *mcpkit.Server) error {
			return mcpkit.AddTool(s, mcpkit.Tool{Name: "get_thing", Description: "One.\n\nTwo.", Policy: read}, noop[documented])
		}, "one paragraph"},
		{"no risk", func(s *mcpkit.Server) error {
			return mcpkit.AddTool(s, mcpkit.Tool{Name: "get_thing", Description: "d.", Policy: mcpkit.Policy{Public: true}}, noop[documented])
		}, "Risk must be"},
		{"no scopes and not public", func(s *mcpkit.Server) error {
			return mcpkit.AddTool(s, mcpkit.Tool{Name: "get_thing", Description: "d.", Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly}}, noop[documented])
		}, "declare the Scopes"},
		{"scope with space", func(s *mcpkit.Server) error {
			return mcpkit.AddTool(s, mcpkit.Tool{Name: "get_thing", Description: "d.", Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Scopes: []string{"a b"}}}, noop[documented])
		}, "without spaces"},
		{"approval predicate of another type", func(s *mcpkit.Server) error {
			p := mcpkit.Policy{Risk: mcpkit.Write, Public: true, Approval: mcpkit.ApprovalWhen("x", func(secretIn) bool { return true })}
			return mcpkit.AddTool(s, mcpkit.Tool{Name: "update_thing", Description: "d.", Policy: p}, noop[documented])
		}, "predicate takes"},
		{"undocumented property", func(s *mcpkit.Server) error {
			return mcpkit.AddTool(s, mcpkit.Tool{Name: "get_thing", Description: "d.", Policy: read}, noop[undocumentedIn])
		}, "arguments.note"},
		{"recursive type", func(s *mcpkit.Server) error {
			return mcpkit.AddTool(s, mcpkit.Tool{Name: "get_thing", Description: "d.", Policy: read}, noop[recursive])
		}, "recursive"},
		{"non-object input", func(s *mcpkit.Server) error {
			return mcpkit.AddTool(s, mcpkit.Tool{Name: "get_thing", Description: "d.", Policy: read}, noop[string])
		}, "must be a struct"},
		{"nil handler", func(s *mcpkit.Server) error {
			return mcpkit.AddTool[documented, documented](s, mcpkit.Tool{Name: "get_thing", Description: "d.", Policy: read}, nil)
		}, "handler is nil"},
		{"duplicate", func(s *mcpkit.Server) error {
			if err := mcpkit.AddTool(s, mcpkit.Tool{Name: "get_thing", Description: "d.", Policy: read}, noop[documented]); err != nil {
				return err
			}
			return mcpkit.AddTool(s, mcpkit.Tool{Name: "get_thing", Description: "d.", Policy: read}, noop[documented])
		}, "already registered"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := mcpkit.MustNewServer(&mcp.Implementation{Name: "t", Version: "1"})
			err := tc.add(s)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestNewServerNeedsNameAndVersion(t *testing.T) {
	_, err := mcpkit.NewServer(&mcp.Implementation{Name: "x"})
	assert.ErrorContains(t, err, "name and a version")
	_, err = mcpkit.NewServer(nil)
	assert.Error(t, err)
}

func TestVerbsAreConfigurable(t *testing.T) {
	s := mcpkit.MustNewServer(&mcp.Implementation{Name: "t", Version: "1"}, mcpkit.WithExtraVerbs("frobnicate"))
	require.NoError(t, mcpkit.AddTool(s, mcpkit.Tool{Name: "frobnicate_widget", Description: "d.", Policy: mcpkit.Policy{Risk: mcpkit.Write, Public: true}}, noop[documented]))
	s = mcpkit.MustNewServer(&mcp.Implementation{Name: "t", Version: "1"}, mcpkit.WithVerbs("frobnicate"))
	assert.Error(t, mcpkit.AddTool(s, mcpkit.Tool{Name: "get_widget", Description: "d.", Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Public: true}}, noop[documented]))
}

func TestToolInfoDerivesAnnotationsApprovalAndRedactions(t *testing.T) {
	s := mcpkit.MustNewServer(&mcp.Implementation{Name: "t", Version: "1"})
	mcpkit.MustAddTool(s, mcpkit.Tool{Name: "delete_thing", Description: "d.", Policy: mcpkit.Policy{Risk: mcpkit.Destructive, Scopes: []string{"admin"}, Redact: []string{"user"}}}, noop[secretIn])
	mcpkit.MustAddTool(s, mcpkit.Tool{Name: "update_thing", Description: "d.", Policy: mcpkit.Policy{Risk: mcpkit.Write, Scopes: []string{"w"}, Idempotent: true, OpenWorld: true}}, noop[documented])
	mcpkit.MustAddTool(s, mcpkit.Tool{Name: "get_thing", Description: "d.", Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Public: true}}, noop[documented])
	mcpkit.MustAddTool(s, mcpkit.Tool{Name: "purge_thing", Description: "d.", Policy: mcpkit.Policy{Risk: mcpkit.Destructive, Public: true, Approval: mcpkit.ApprovalNever()}}, noop[documented])

	del, _ := s.Tool("delete_thing")
	assert.True(t, del.Policy.Approval.Always(), "destructive tools require approval by default")
	assert.Equal(t, []string{"nested.token", "password", "user"}, del.Redact)
	assert.False(t, del.Annotations.ReadOnlyHint)
	assert.True(t, *del.Annotations.DestructiveHint)

	upd, _ := s.Tool("update_thing")
	assert.True(t, upd.Policy.Approval.Never())
	assert.True(t, upd.Annotations.IdempotentHint)
	assert.False(t, *upd.Annotations.DestructiveHint)
	assert.True(t, *upd.Annotations.OpenWorldHint)

	get, _ := s.Tool("get_thing")
	assert.True(t, get.Annotations.ReadOnlyHint)
	assert.Nil(t, get.Annotations.DestructiveHint)

	purge, _ := s.Tool("purge_thing")
	assert.True(t, purge.Policy.Approval.Never(), "an explicit ApprovalNever is kept")

	// The client sees exactly the derived annotations.
	cs := mcpkittest.NewHarness(t, s).Session
	lr, err := cs.ListTools(context.Background(), nil)
	require.NoError(t, err)
	for _, tool := range lr.Tools {
		info, _ := s.Tool(tool.Name)
		want, _ := json.Marshal(info.Annotations)
		got, _ := json.Marshal(tool.Annotations)
		assert.JSONEq(t, string(want), string(got), tool.Name)
		schema, _ := json.Marshal(tool.InputSchema)
		assert.JSONEq(t, string(info.InputSchema), string(schema))
	}
}

func TestApprovalRules(t *testing.T) {
	type in struct{ Amount int }
	rule := mcpkit.ApprovalWhen("amount > 500", func(v in) bool { return v.Amount > 500 })
	assert.True(t, rule.Requires(in{Amount: 501}))
	assert.False(t, rule.Requires(in{Amount: 500}))
	assert.True(t, rule.Requires("not the input type"), "an input the predicate cannot judge needs a human")
	assert.True(t, rule.Requires(nil))
	assert.Equal(t, "when amount > 500", rule.String())
	assert.True(t, mcpkit.ApprovalAlways().Requires(nil))
	assert.False(t, mcpkit.ApprovalNever().Requires(nil))
	assert.True(t, mcpkit.ApprovalRule{}.Requires(nil), "an unresolved rule fails closed")
}
