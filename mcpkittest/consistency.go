package mcpkittest

import (
	"slices"
	"strings"
	"testing"
)

// checkConsistency asks, for each identity, which tools tools/list shows and
// which tools a call gets past every gate, and requires the two sets to be
// equal: a hidden tool must be refused, a visible one must be callable.
// Calls stop right after the gates, so nothing runs.
func checkConsistency(t testing.TB, e *env) {
	for _, id := range e.identities(e.server(t).Tools()) {
		o := newObserver()
		srv := e.build(t, o.options(true)...)
		h := NewHarness(t, srv, WithIdentity(id))
		visible := h.Names()
		var callable []string
		for _, info := range srv.Tools() {
			if _, err := h.Call(info.Name, map[string]any{}); err != nil {
				t.Errorf("identity %s: calling %s: protocol error %v", id.Subject, info.Name, err)
				continue
			}
			if o.passedCount(info.Name) > 0 {
				callable = append(callable, info.Name)
			}
			if got, _ := o.last(); o.passedCount(info.Name) > 0 && !isStopped(got.err) {
				t.Errorf("identity %s: %s passed the gates but was not stopped by the suite (%s)", id.Subject, info.Name, got.outcome)
			}
		}
		for _, name := range visible {
			if _, mine := srv.Tool(name); mine && !slices.Contains(callable, name) {
				t.Errorf("identity %s (scopes %s): %s is listed but its calls are refused", id.Subject, strings.Join(id.Scopes, " "), name)
			}
		}
		for _, name := range callable {
			if !slices.Contains(visible, name) {
				t.Errorf("identity %s (scopes %s): %s is hidden from tools/list but its calls are allowed: a hidden tool must be refused", id.Subject, strings.Join(id.Scopes, " "), name)
			}
		}
	}
}
