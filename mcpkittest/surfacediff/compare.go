package surfacediff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Compare classifies every difference between the reviewed surface old and
// the surface new. Neither is modified. A tool that disappears while
// another with the same input and output schemas appears is reported as a
// rename, and the rest of its policy is compared with the old one.
func Compare(old, new *Surface) *Report {
	d := &differ{}
	oldTools := byName(old)
	newTools := byName(new)
	var removed, added []string
	for name := range oldTools {
		if _, ok := newTools[name]; !ok {
			removed = append(removed, name)
		}
	}
	for name := range newTools {
		if _, ok := oldTools[name]; !ok {
			added = append(added, name)
		}
	}
	slices.Sort(removed)
	slices.Sort(added)
	renamed := pairRenames(removed, added, func(o, n string) bool {
		return canonical(oldTools[o].InputSchema) == canonical(newTools[n].InputSchema) &&
			canonical(oldTools[o].OutputSchema) == canonical(newTools[n].OutputSchema)
	})
	for _, name := range removed {
		if to, ok := renamed[name]; ok {
			d.add(Breaking, "tool_renamed", to, "", name, to,
				fmt.Sprintf("renamed from %s: clients calling %s get an unknown tool", name, name))
			d.tool(oldTools[name], newTools[to])
			continue
		}
		d.add(Breaking, "tool_removed", name, "", name, "", "tool removed: clients calling it get an unknown tool")
	}
	renamedTo := map[string]bool{}
	for _, to := range renamed {
		renamedTo[to] = true
	}
	for _, name := range added {
		if !renamedTo[name] {
			d.newTool(newTools[name])
		}
	}
	for name, o := range oldTools {
		if n, ok := newTools[name]; ok {
			d.tool(o, n)
		}
	}
	for _, kind := range []string{EntryResource, EntryResourceTemplate, EntryPrompt} {
		d.compareEntries(kind, old, new)
	}
	sortChanges(d.out)
	return &Report{Changes: d.out}
}

func byName(s *Surface) map[string]*Tool {
	m := map[string]*Tool{}
	if s == nil {
		return m
	}
	for i := range s.Tools {
		m[s.Tools[i].Name] = &s.Tools[i]
	}
	return m
}

// pairRenames pairs each removed name with the one added name it matches,
// when the match is unique both ways.
func pairRenames(removed, added []string, match func(o, n string) bool) map[string]string {
	out := map[string]string{}
	for _, o := range removed {
		var cands []string
		for _, n := range added {
			if match(o, n) {
				cands = append(cands, n)
			}
		}
		if len(cands) != 1 {
			continue
		}
		back := 0
		for _, o2 := range removed {
			if match(o2, cands[0]) {
				back++
			}
		}
		if back == 1 {
			out[o] = cands[0]
		}
	}
	return out
}

// canonical is raw JSON with object keys sorted and no whitespace, so
// that equal values compare equal; "null" and absence are the same.
func canonical(raw json.RawMessage) string {
	if len(bytes.TrimSpace(raw)) == 0 {
		return "null"
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return string(raw)
	}
	return canonicalValue(v)
}

func canonicalValue(v any) string {
	b, err := json.Marshal(v) // maps marshal with sorted keys
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// differ collects changes.
type differ struct {
	out []Change
	// entry is the kind of entry being compared; empty for tools.
	entry string
}

func (d *differ) add(cat Category, kind, tool, path, from, to, detail string) {
	d.out = append(d.out, Change{Category: cat, Kind: kind, Tool: tool, Entry: d.entry, Path: path, From: from, To: to, Detail: detail})
}

// newTool classifies a tool that did not exist: a read-only tool behind
// scopes is additive; a tool that can change something, or that any
// caller may use, needs a security review.
func (d *differ) newTool(t *Tool) {
	p := t.Policy
	switch {
	case p.Risk != "read_only":
		d.add(SecurityReview, "tool_added", t.Name, "", "", p.Risk,
			fmt.Sprintf("new %s tool (%s; approval %s)", words(p.Risk), scopeWords(p), p.Approval))
	case p.Public:
		d.add(SecurityReview, "tool_added", t.Name, "", "", p.Risk, "new read-only tool open to any authenticated caller (public)")
	default:
		d.add(Additive, "tool_added", t.Name, "", "", p.Risk, fmt.Sprintf("new read-only tool (%s)", scopeWords(p)))
	}
}

func words(risk string) string { return strings.ReplaceAll(risk, "_", "-") }

func scopeWords(p Policy) string {
	if len(p.Scopes) == 0 {
		if p.Public {
			return "public"
		}
		return "no scopes"
	}
	return "scopes " + strings.Join(p.Scopes, ", ")
}

// tool compares two versions of one tool; n.Name names the changes.
func (d *differ) tool(o, n *Tool) {
	name := n.Name
	d.policy(name, o.Policy, n.Policy)
	if o.Title != n.Title {
		d.add(Additive, "title_changed", name, "", o.Title, n.Title, fmt.Sprintf("title changed from %q to %q", o.Title, n.Title))
	}
	if o.Description != n.Description {
		d.add(Additive, "description_changed", name, "", o.Description, n.Description, "description changed")
	}
	policyHints := o.Policy.Risk != n.Policy.Risk || o.Policy.Idempotent != n.Policy.Idempotent ||
		o.Policy.OpenWorld != n.Policy.OpenWorld || o.Title != n.Title
	if !policyHints && canonical(o.Annotations) != canonical(n.Annotations) {
		// Annotations are derived from the policy: a change without a
		// policy change means the hints clients trust were edited.
		d.add(SecurityReview, "annotations_changed", name, "", canonical(o.Annotations), canonical(n.Annotations),
			fmt.Sprintf("annotations changed from %s to %s without a policy change", canonical(o.Annotations), canonical(n.Annotations)))
	}
	d.schemas(name, o, n)
}

func (d *differ) policy(name string, o, n Policy) {
	noun := nounOf(d.entry)
	if ro, rn := slices.Index(riskOrder, o.Risk), slices.Index(riskOrder, n.Risk); ro != rn {
		if rn > ro {
			d.add(SecurityReview, "risk_raised", name, "", o.Risk, n.Risk, fmt.Sprintf("risk raised from %s to %s", words(o.Risk), words(n.Risk)))
		} else {
			// Lowering a risk tells clients the tool is safer and relaxes
			// the defaults derived from it: the reviewer must agree.
			d.add(SecurityReview, "risk_lowered", name, "", o.Risk, n.Risk, fmt.Sprintf("risk lowered from %s to %s: clients and defaults now treat it as less dangerous", words(o.Risk), words(n.Risk)))
		}
	}
	var gone, extra []string
	for _, s := range o.Scopes {
		if !slices.Contains(n.Scopes, s) {
			gone = append(gone, s)
		}
	}
	for _, s := range n.Scopes {
		if !slices.Contains(o.Scopes, s) {
			extra = append(extra, s)
		}
	}
	switch {
	case len(gone) > 0 && len(extra) > 0:
		d.add(SecurityReview, "scope_replaced", name, "", strings.Join(gone, ", "), strings.Join(extra, ", "),
			fmt.Sprintf("scope %s replaced by %s", strings.Join(gone, ", "), strings.Join(extra, ", ")))
	case len(gone) > 0:
		d.add(SecurityReview, "scope_removed", name, "", strings.Join(gone, ", "), "",
			fmt.Sprintf("scope %s removed: callers without it may now use the %s", strings.Join(gone, ", "), noun))
	case len(extra) > 0:
		d.add(Breaking, "scope_added", name, "", "", strings.Join(extra, ", "),
			fmt.Sprintf("now also requires scope %s: callers without it lose the %s", strings.Join(extra, ", "), noun))
	}
	if o.Public != n.Public {
		if n.Public {
			d.add(SecurityReview, "public_on", name, "", "false", "true", "made public: any authenticated caller may use it")
		} else {
			d.add(Breaking, "public_off", name, "", "true", "false", "no longer public: callers without its scopes lose the "+noun)
		}
	}
	ao, an := slices.Index(approvalOrder, o.ApprovalKind), slices.Index(approvalOrder, n.ApprovalKind)
	switch {
	case an < ao:
		d.add(SecurityReview, "approval_loosened", name, "", o.Approval, n.Approval, fmt.Sprintf("approval loosened from %s to %s", approvalWords(o), approvalWords(n)))
	case an > ao:
		d.add(Breaking, "approval_tightened", name, "", o.Approval, n.Approval,
			fmt.Sprintf("approval tightened from %s to %s: calls that ran unattended now wait for a human", approvalWords(o), approvalWords(n)))
	case o.Approval != n.Approval && n.ApprovalKind == "when":
		// Two predicates cannot be ordered: the new one may approve less.
		d.add(SecurityReview, "approval_condition_changed", name, "", o.Approval, n.Approval, fmt.Sprintf("approval condition changed from %q to %q", o.Approval, n.Approval))
	case o.Approval != n.Approval:
		d.add(Additive, "approval_wording", name, "", o.Approval, n.Approval, fmt.Sprintf("approval described as %q instead of %q (same rule)", n.Approval, o.Approval))
	}
	if o.FlagKey != n.FlagKey {
		d.add(SecurityReview, "flag_key_changed", name, "", o.FlagKey, n.FlagKey,
			fmt.Sprintf("feature flag changed from %s to %s: the old flag's setting no longer applies", o.FlagKey, n.FlagKey))
	}
	if o.FlagDefault != n.FlagDefault {
		if n.FlagDefault == "on" {
			d.add(SecurityReview, "flag_default_on", name, "", o.FlagDefault, n.FlagDefault, "flag default turned on: the "+noun+" is enabled where its flag is not defined")
		} else {
			d.add(Breaking, "flag_default_off", name, "", o.FlagDefault, n.FlagDefault, "flag default turned off: the "+noun+" is hidden where its flag is not defined")
		}
	}
	for _, f := range o.Redact {
		if !slices.Contains(n.Redact, f) {
			d.add(SecurityReview, "redaction_removed", name, "", f, "", fmt.Sprintf("redaction of %s removed: audit records now keep its value", f))
		}
	}
	for _, f := range n.Redact {
		if !slices.Contains(o.Redact, f) {
			d.add(Additive, "redaction_added", name, "", "", f, fmt.Sprintf("%s is now redacted in audit records", f))
		}
	}
	if o.Idempotent != n.Idempotent {
		if n.Idempotent {
			d.add(SecurityReview, "idempotent_on", name, "", "false", "true", "now declared idempotent: clients may retry it")
		} else {
			d.add(Additive, "idempotent_off", name, "", "true", "false", "no longer declared idempotent")
		}
	}
	if o.OpenWorld != n.OpenWorld {
		if n.OpenWorld {
			d.add(SecurityReview, "open_world_on", name, "", "false", "true", "now reaches systems outside the server's domain (open world)")
		} else {
			d.add(Additive, "open_world_off", name, "", "true", "false", "no longer open world")
		}
	}
}

// approvalWords is the rule's kind, with its condition for "when".
func approvalWords(p Policy) string {
	if p.ApprovalKind == "when" {
		return p.Approval
	}
	return p.ApprovalKind
}

func (d *differ) schemas(name string, o, n *Tool) {
	d.schema(name, "arguments", decodeSchema(o.InputSchema), decodeSchema(n.InputSchema), input)
	ho, hn := canonical(o.OutputSchema) != "null", canonical(n.OutputSchema) != "null"
	switch {
	case ho && !hn:
		d.add(Breaking, "output_schema_removed", name, "result", "", "", "no longer declares an output schema: clients lose structured results")
	case !ho && hn:
		d.add(Additive, "output_schema_added", name, "result", "", "", "now declares an output schema")
	case ho && hn:
		d.schema(name, "result", decodeSchema(o.OutputSchema), decodeSchema(n.OutputSchema), output)
	}
}

func decodeSchema(raw json.RawMessage) map[string]any {
	var m map[string]any
	_ = json.Unmarshal(raw, &m) // Parse has checked it is an object
	if m == nil {
		m = map[string]any{}
	}
	return m
}
