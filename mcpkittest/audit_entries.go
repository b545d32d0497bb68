package mcpkittest

import (
	"bytes"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// plannedAccess is one read or get the entry audit check makes and what
// its record must say.
type plannedAccess struct {
	h    *Harness
	as   mcpkit.Identity
	info *mcpkit.ToolInfo // nil for an unknown target
	op   mcpkit.Operation
	do   func() error
	want mcpkit.Outcome // "" when any outcome will do
}

// checkEntryAudit is the audit check for resources, templates and
// prompts: a valid read or get, one with planted secrets in every string
// variable or argument, one by a caller without the entry's scopes, a
// template URI that does not fit, and a read of an unknown URI and a get
// of an unknown prompt each carrying a secret; every one must leave
// exactly one final record, in order, with its operation, entry and
// principal, refusals with their outcome, and no planted secret (raw or
// percent-encoded) anywhere in a record.
func checkEntryAudit(t testing.TB, e *env) {
	capt := &capture{}
	o := newObserver()
	srv := e.build(t, append(o.options(false), e.auditOption(t, capt))...)
	entries := readables(srv)
	if len(entries) == 0 {
		t.Skip("the server registers no resources or prompts")
	}
	all := superuser(allEntries(srv))
	none := mcpkit.Identity{Subject: "mcpkittest-no-scopes", AuthMethod: "test", Transport: "memory"}
	hAll := NewHarness(t, srv, WithIdentity(all))
	hNone := NewHarness(t, srv, WithIdentity(none))
	cans := canaries()
	var plan []plannedAccess
	for i, info := range entries {
		op := accessMethod(info)
		valid, ok := map[string]string{}, true
		if info.Kind != mcpkit.KindResource {
			valid, ok = e.entryArgs(info)
		}
		if ok {
			plan = append(plan, plannedAccess{hAll, all, info, op, func() error { _, err := access(hAll, info, valid); return err }, ""})
			if len(info.Policy.Scopes) > 0 {
				plan = append(plan, plannedAccess{hNone, none, info, op, func() error { _, err := access(hNone, info, valid); return err }, mcpkit.OutcomeDeniedScope})
			}
		}
		if info.Kind == mcpkit.KindResource {
			continue
		}
		var s jsonschema.Schema
		_ = json.Unmarshal(info.InputSchema, &s)
		planted := map[string]string{}
		for j, name := range sortedProps(&s) {
			if s.Properties[name].Type == "string" {
				planted[name] = cans[(i+j)%len(cans)]
			} else {
				planted[name] = valid[name]
			}
		}
		if len(planted) > 0 {
			plan = append(plan, plannedAccess{hAll, all, info, op, func() error { _, err := access(hAll, info, planted); return err }, ""})
		}
		if info.Kind == mcpkit.KindResourceTemplate {
			dotdot := map[string]string{}
			for name := range s.Properties {
				dotdot[name] = ".."
			}
			plan = append(plan, plannedAccess{hAll, all, info, op, func() error { _, err := access(hAll, info, dotdot); return err }, mcpkit.OutcomeInvalidInput})
		}
	}
	unknownURI := "mcpkittest://no-such-resource/" + url.PathEscape(cans[0])
	plan = append(plan,
		plannedAccess{hAll, all, nil, mcpkit.OpReadResource, func() error { _, err := hAll.Read(unknownURI); return err }, mcpkit.OutcomeUnknownResource},
		plannedAccess{hAll, all, nil, mcpkit.OpGetPrompt, func() error {
			_, err := hAll.GetPrompt("mcpkittest_no_such_prompt", map[string]string{"token": cans[1]})
			return err
		}, mcpkit.OutcomeUnknownPrompt})

	var errs []error
	for _, p := range plan {
		errs = append(errs, p.do())
	}
	records := capt.final()
	if len(records) != len(plan) {
		t.Errorf("%d reads and gets produced %d final audit records; want exactly one each", len(plan), len(records))
	}
	for i := range min(len(records), len(plan)) {
		r, p := records[i], plan[i]
		what := "an unknown target"
		if p.info != nil {
			what = p.info.Label()
		}
		if r.Operation != string(p.op) || r.Tool != "" || (p.info != nil && !sameTarget(p.info, r.Target)) {
			t.Errorf("record %d is for %s of %q (tool %q); the request was %s of %s (a record is missing or out of order)", i, r.Operation, r.Target, r.Tool, p.op, what)
			break
		}
		if r.Principal.Subject != p.as.Subject {
			t.Errorf("record %d (%s of %s, %s) names principal %q; the caller was %q", i, p.op, what, r.Outcome, r.Principal.Subject, p.as.Subject)
		}
		if r.Outcome == "" || r.ID == "" || r.Time.IsZero() {
			t.Errorf("record %d (%s of %s) lacks an id, a time or an outcome: %+v", i, p.op, what, r)
		}
		if p.want != "" && r.Outcome != string(p.want) {
			t.Errorf("record %d: %s of %s was recorded as %q; want %s", i, p.op, what, r.Outcome, p.want)
		}
		// An unknown target is refused by the SDK, whose error carries no
		// outcome; the record above says what happened.
		if _, outcome, ok := refusalOutcome(errs[i]); p.want != "" && (!ok || (p.info != nil && outcome != string(p.want))) {
			t.Errorf("%s of %s answered %v; want a JSON-RPC error naming outcome %s", p.op, what, errs[i], p.want)
		}
	}
	capt.mu.Lock()
	defer capt.mu.Unlock()
	for i, raw := range capt.raw {
		for _, c := range cans {
			for _, form := range slices.Compact([]string{c, url.PathEscape(c), url.QueryEscape(c)}) {
				if bytes.Contains(raw, []byte(form)) {
					t.Errorf("audit record %d contains the planted secret %q: %s", i, form, raw)
				}
			}
		}
	}
}

// sameTarget reports whether a record's target can be info's: a prompt's
// name or a resource's URI exactly, a URI with a template's literal start.
func sameTarget(info *mcpkit.ToolInfo, target string) bool {
	switch info.Kind {
	case mcpkit.KindResource:
		return target == info.URI
	case mcpkit.KindResourceTemplate:
		prefix, _, _ := strings.Cut(info.URI, "{")
		return strings.HasPrefix(target, prefix)
	}
	return target == info.Name
}
