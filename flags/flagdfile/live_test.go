package flagdfile_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/flags"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// TestLiveReloadDrivesClients rewrites the flag file while real clients
// (one on protocol 2026-07-28, one on the legacy 2025-11-25) are connected:
// the tool appears and disappears in tools/list, both clients are notified,
// and calls follow the flag.
func TestLiveReloadDrivesClients(t *testing.T) {
	env := newFileEnv(t, boolFlags(map[string]bool{"tool.create_echo": false}))
	require.NoError(t, env.initErr)
	gate := newGate(t, env.client)
	srv, rec := newServer(t, gate, mcpkit.Identity{Subject: "alice"})
	stop := gate.NotifyChanges(srv)
	t.Cleanup(stop)

	var modern, legacy atomic.Int64
	csModern := mcpkittest.NewHarness(t, srv, onListChanged(func() { modern.Add(1) })).Session
	csLegacy := mcpkittest.NewHarness(t, srv, mcpkittest.WithProtocolVersion("2025-11-25"), onListChanged(func() { legacy.Add(1) })).Session

	// Off: create_echo hidden and refused; read-only get_echo is on by
	// default (no flag); destructive delete_echo is off by default.
	assert.Equal(t, []string{"get_echo"}, toolNames(t, csModern))
	assert.Equal(t, []string{"get_echo"}, toolNames(t, csLegacy))
	res := callTool(t, csModern, "create_echo")
	assert.True(t, res.IsError)
	assert.Contains(t, mcpkittest.Text(res), "tool create_echo is not enabled for you: feature flag tool.create_echo is off")
	assert.Equal(t, mcpkit.OutcomeDeniedFlag, rec.lastCall().Outcome())

	// On.
	m0, l0 := modern.Load(), legacy.Load()
	writeAtomic(t, env.path, boolFlags(map[string]bool{"tool.create_echo": true}))
	require.Eventually(t, func() bool { return modern.Load() > m0 && legacy.Load() > l0 }, 5*time.Second, 10*time.Millisecond,
		"both clients receive notifications/tools/list_changed")
	assert.ElementsMatch(t, []string{"get_echo", "create_echo"}, toolNames(t, csModern))
	assert.ElementsMatch(t, []string{"get_echo", "create_echo"}, toolNames(t, csLegacy))
	res = callTool(t, csLegacy, "create_echo")
	assert.False(t, res.IsError, mcpkittest.Text(res))
	assert.Equal(t, mcpkit.OutcomeOK, rec.lastCall().Outcome())

	// Off again, written in place this time (truncate and write).
	m1 := modern.Load()
	require.NoError(t, writeInPlace(env.path, boolFlags(map[string]bool{"tool.create_echo": false})))
	require.Eventually(t, func() bool { return modern.Load() > m1 }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, []string{"get_echo"}, toolNames(t, csModern))
	res = callTool(t, csModern, "create_echo")
	assert.True(t, res.IsError)
	assert.Equal(t, mcpkit.OutcomeDeniedFlag, rec.lastCall().Outcome())
	var den *flags.Denial
	require.ErrorAs(t, rec.lastCall().Err(), &den)
	assert.Equal(t, flags.ReasonOff, den.Reason)
}
