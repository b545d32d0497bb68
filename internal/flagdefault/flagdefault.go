// Package flagdefault says what an undefined feature flag means for an
// entry of each risk when flags.NewGate runs with its defaults: on for
// read-only, off for write and destructive. The surface file
// (mcpkittest/surfacediff: flag_default) and POLICY.md (mcpkittest) both
// print it; one definition keeps the two golden files in agreement, and
// its test keeps it in agreement with the gate.
package flagdefault

import "github.com/mcpkit-go/mcpkit/mcpkit"

// Of is "on" or "off": whether a tool, resource or prompt of risk r is
// served when the flag provider does not define its flag.
func Of(r mcpkit.Risk) string {
	if r == mcpkit.ReadOnly {
		return "on"
	}
	return "off"
}
