package flagdfile_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// The gate's evaluation context meets flagd rules: targeting on subject,
// email, groups, client, risk and transport all work through a real server.
func TestEvaluationContextTargeting(t *testing.T) {
	rule := func(cond string) string {
		return `{"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off", "targeting": {"if": [` + cond + `, "on", "off"]}}`
	}
	env := newFileEnv(t, `{"flags": {
		"tool.get_echo": `+rule(`{"and": [{"==": [{"var": "targetingKey"}, "alice"]}, {"ends_with": [{"var": "email"}, "@example.com"]}, {"==": [{"var": "tool"}, "get_echo"]}, {"==": [{"var": "risk"}, "read_only"]}]}`)+`,
		"tool.create_echo": `+rule(`{"and": [{"in": ["sre", {"var": "groups"}]}, {"==": [{"var": "client_name"}, "flags-test-client"]}, {"sem_ver": [{"var": "client_version"}, ">=", "2.0.0"]}, {"==": [{"var": "transport"}, "memory"]}]}`)+`,
		"tool.delete_echo": `+rule(`{"==": [{"var": "risk"}, "write"]}`)+`
	}}`)
	require.NoError(t, env.initErr)
	gate := newGate(t, env.client)

	alice := mcpkit.Identity{Subject: "alice", Email: "alice@example.com", Groups: []string{"dev", "sre"}, Transport: "memory"}
	srv, _ := newServer(t, gate, alice)
	assert.ElementsMatch(t, []string{"get_echo", "create_echo"}, toolNames(t, connect(t, srv, "", nil)))

	bob := mcpkit.Identity{Subject: "bob", Email: "bob@example.com", Groups: []string{"dev"}, Transport: "memory"}
	srv2, _ := newServer(t, gate, bob)
	assert.Empty(t, toolNames(t, connect(t, srv2, "", nil)))
}
