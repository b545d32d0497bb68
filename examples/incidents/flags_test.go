package main

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// visibleTools sets the server up with args, as main does, and returns the
// tools id sees.
func visibleTools(t *testing.T, args []string, id mcpkit.Identity) []string {
	t.Helper()
	store, err := NewStore(func() time.Time { return time.Unix(0, 0) })
	require.NoError(t, err)
	srv, _ := setUp(t, store, id, args...)
	names := mcpkittest.NewHarness(t, srv).Names()
	slices.Sort(names)
	return names
}

func TestFlagsFeature(t *testing.T) {
	all := []string{"delete_incident", "get_incident", "list_incidents", "resolve_incident", "search_incidents"}
	reads := []string{"get_incident", "list_incidents", "search_incidents"}
	bob := mcpkit.Identity{Subject: "bob", Scopes: AllScopes}
	assert.Equal(t, all, visibleTools(t, nil, bob), "without -flags the example is ungated")

	// The shipped stage: resolve_incident for alice and the sre group,
	// delete_incident off for everyone, read-only tools on by default.
	assert.Equal(t, reads, visibleTools(t, []string{"-flags", "flags.json"}, bob))
	alice := mcpkit.Identity{Subject: "alice", Scopes: AllScopes}
	assert.Equal(t, []string{"get_incident", "list_incidents", "resolve_incident", "search_incidents"}, visibleTools(t, []string{"-flags", "flags.json"}, alice))
	sre := mcpkit.Identity{Subject: "carol", Groups: []string{"sre"}, Scopes: AllScopes}
	assert.Contains(t, visibleTools(t, []string{"-flags", "flags.json"}, sre), "resolve_incident")

	// A flag file that cannot be loaded refuses every tool.
	assert.Empty(t, visibleTools(t, []string{"-flags", "does-not-exist.json"}, alice))
}
