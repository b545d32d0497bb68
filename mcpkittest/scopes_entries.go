package mcpkittest

import (
	"slices"
	"strings"
	"testing"
)

// checkEntryScopesEnforced is checkScopesEnforced for resources, templates
// and prompts: for every scope an entry declares, a caller holding every
// scope the server names but that one must not find the entry in its list,
// and its read or get must be refused before it gets past the gates. A
// declared scope nothing enforces fails here, whatever POLICY.md says.
func checkEntryScopesEnforced(t testing.TB, e *env) {
	base := e.server(t)
	all := superuser(allEntries(base))
	checked := 0
	for _, info := range readables(base) {
		for _, scope := range info.Policy.Scopes {
			checked++
			id := all
			id.Subject = "mcpkittest-without-" + scope
			id.Scopes = slices.DeleteFunc(slices.Clone(all.Scopes), func(s string) bool { return s == scope })
			o := newObserver()
			srv := e.build(t, o.options(true)...)
			h := NewHarness(t, srv, WithIdentity(id))
			if listedEntries(h, srv)[listKey(info)] {
				t.Errorf("%s requires scope %s, but %s shows it to a caller without it (scopes %s): declared scopes are not enforced",
					info.Label(), scope, listMethod(info), strings.Join(id.Scopes, " "))
			}
			what, err, ok := e.validAccess(t, h, info)
			if !ok {
				continue
			}
			if o.passedCount(observedKey(info)) > 0 || err == nil {
				got, _ := o.last()
				t.Errorf("%s requires scope %s, but %s from a caller without it got past every gate (outcome %s): declared scopes are not enforced",
					what, scope, accessMethod(info), got.outcome)
			}
		}
	}
	if checked == 0 {
		t.Skip("no resource or prompt declares scopes")
	}
}
