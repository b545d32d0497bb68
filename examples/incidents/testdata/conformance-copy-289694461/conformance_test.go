package main

import (
	"flag"
	"testing"
	"time"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

var (
	update = flag.Bool("update", false, "rewrite testdata/surface.json and POLICY.md")
	accept = flag.String("accept", "", "with -update, acknowledge surface changes beyond additive: breaking, security-review")
)

// TestConformance is the one test a team adds to its CI: the mcpkittest
// suite against the server as production builds it.
func TestConformance(t *testing.T) {
	mcpkittest.Run(t, func(opts ...mcpkit.Option) (*mcpkit.Server, error) {
		store, err := NewStore(func() time.Time { return time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC) })
		if err != nil {
			return nil, err
		}
		return newServer(store, opts...)
	}, mcpkittest.Config{
		SurfaceFile: "testdata/surface.json",
		PolicyFile:  "POLICY.md",
		PolicyNotes: []string{
			"**Who may approve in the approval console** (`-approver console`): a reviewer holding `" + ScopeApprove +
				"` and the tool's own scopes (`incidents:admin` for `delete_incident`, `incidents:write` for `resolve_incident`), never the caller. Anyone else is refused with 403 and the refusal is audited (RUNBOOK.md, \"Approve a pending call\").",
			"In-client approval (`-approver elicit`, the default) proves only that the caller's client confirmed the call; use the console for `delete_incident` in production.",
		},
		Update: *update,
		Accept: *accept,
	})
}
