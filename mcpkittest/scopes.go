package mcpkittest

import (
	"slices"
	"strings"
	"testing"
)

// checkScopesEnforced plays, for every tool that declares scopes and every
// one of those scopes, a caller holding every scope the server names except
// that one: the tool must be missing from its tools/list, and a call to it
// must be refused before it gets past the gates (so no handler can run).
// A declared scope nothing enforces fails here, whatever POLICY.md says.
func checkScopesEnforced(t testing.TB, e *env) {
	tools := e.server(t).Tools()
	all := superuser(tools)
	checked := 0
	for _, info := range tools {
		for _, scope := range info.Policy.Scopes {
			checked++
			id := all
			id.Subject = "mcpkittest-without-" + scope
			id.Scopes = slices.DeleteFunc(slices.Clone(all.Scopes), func(s string) bool { return s == scope })
			o := newObserver()
			srv := e.build(t, o.options(true)...)
			h := NewHarness(t, srv, WithIdentity(id))
			if slices.Contains(h.Names(), info.Name) {
				t.Errorf("%s requires scope %s, but tools/list shows it to a caller without it (scopes %s): declared scopes are not enforced",
					info.Name, scope, strings.Join(id.Scopes, " "))
			}
			res, err := h.Call(info.Name, map[string]any{})
			if err != nil {
				t.Errorf("%s: a caller without scope %s got a protocol error %v; want an isError refusal", info.Name, scope, err)
				continue
			}
			got, _ := o.last()
			if n := o.passedCount(info.Name); n > 0 || !res.IsError {
				t.Errorf("%s requires scope %s, but a call from a caller without it got past every gate (outcome %s, isError=%v): declared scopes are not enforced",
					info.Name, scope, got.outcome, res.IsError)
			}
		}
	}
	if checked == 0 {
		t.Skip("no tool declares scopes")
	}
}
