package mcpkittest

import (
	"context"
	"testing"

	"github.com/mcpkit-go/mcpkit/flags"
	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// checkEntryFlags is checkFlags for resources, templates and prompts: with
// its flag off an entry is missing from its list and its read or get is
// refused (denied_flag) before it gets past the gates; with it on, it is
// listed and gets past them.
func checkEntryFlags(t testing.TB, e *env) {
	ctx := context.Background()
	base := e.server(t)
	entries := readables(base)
	if len(entries) == 0 {
		t.Skip("the server registers no resources or prompts")
	}
	all := superuser(allEntries(base))
	for _, info := range entries {
		for _, on := range []bool{false, true} {
			off := flags.FlagKey(info)
			if on {
				off = ""
			}
			client, closeAPI, err := flagClient(ctx, allEntries(base), off)
			if err != nil {
				t.Fatalf("in-memory flag provider: %v", err)
			}
			o := newObserver()
			srv := e.build(t, append([]mcpkit.Option{e.flagsOption(t, client)}, o.options(true)...)...)
			h := NewHarness(t, srv, WithIdentity(all))
			listed := listedEntries(h, srv)[listKey(info)]
			what, err, ok := e.validAccess(t, h, info)
			closeAPI()
			if !ok {
				continue
			}
			got, _ := o.last()
			passed := o.passedCount(observedKey(info)) > 0
			_, outcome, _ := refusalOutcome(err)
			switch {
			case !on && listed:
				t.Errorf("%s is listed by %s while its flag %s is off", what, listMethod(info), flags.FlagKey(info))
			case !on && (passed || got.outcome != mcpkit.OutcomeDeniedFlag || outcome != string(mcpkit.OutcomeDeniedFlag)):
				t.Errorf("%s was not refused while its flag is off: outcome %s, answer %v", what, got.outcome, err)
			case on && !listed:
				t.Errorf("%s is hidden while its flag %s is on", what, flags.FlagKey(info))
			case on && !passed:
				t.Errorf("%s is refused while its flag is on: %s %v", what, got.outcome, err)
			}
		}
	}
}
