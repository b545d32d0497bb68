package mcpkittest

import (
	"strings"
	"testing"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// checkEntryConsistency is checkConsistency for resources, resource
// templates and prompts: for each identity, what resources/list,
// resources/templates/list and prompts/list show must be exactly what
// resources/read and prompts/get let past every gate (a template read at a
// URI built from valid variables, a prompt got with valid arguments). A
// hidden entry must be refused with a JSON-RPC error naming the outcome
// the audit recorded. Reads stop right after the gates, so nothing runs.
func checkEntryConsistency(t testing.TB, e *env) {
	base := e.server(t)
	if len(readables(base)) == 0 {
		t.Skip("the server registers no resources or prompts")
	}
	for _, id := range e.identities(allEntries(base)) {
		o := newObserver()
		srv := e.build(t, o.options(true)...)
		h := NewHarness(t, srv, WithIdentity(id))
		listed := listedEntries(h, srv)
		who := "identity " + id.Subject + " (scopes " + strings.Join(id.Scopes, " ") + ")"
		for _, info := range readables(srv) {
			key := observedKey(info)
			before := o.passedCount(key)
			what, err, ok := e.validAccess(t, h, info)
			if !ok {
				continue
			}
			passed := o.passedCount(key) > before
			shown := listed[listKey(info)]
			switch {
			case shown && !passed:
				got, _ := o.last()
				t.Errorf("%s: %s is listed by %s but %s refuses it (%s)", who, what, listMethod(info), accessMethod(info), got.outcome)
			case !shown && passed:
				t.Errorf("%s: %s is hidden from %s but %s lets it past every gate: a hidden entry must be refused", who, what, listMethod(info), accessMethod(info))
			case !passed:
				got, _ := o.last()
				code, outcome, isRPC := refusalOutcome(err)
				switch {
				case !isRPC:
					t.Errorf("%s: %s is hidden and %s answered %v; want a JSON-RPC refusal", who, what, accessMethod(info), err)
				case got.outcome == mcpkit.OutcomeOK || outcome != string(got.outcome) || code != mcpkit.RefusedRPCCode:
					t.Errorf("%s: %s is hidden and %s was refused with code %d outcome %q, the audit saw %q; want code %d naming the audited denial",
						who, what, accessMethod(info), code, outcome, got.outcome, mcpkit.RefusedRPCCode)
				}
			}
		}
	}
}
