package ratelimit

import "github.com/mcpkit-go/mcpkit/mcpkit"

// charge is what one call is charged: the rule that applies, the key of
// the bucket it takes from, and its risk class (which WithFallback decides
// by). It is decided by chargeFor alone, whether
// the gate decides the call (Check) or the HTTP transport does before the
// server runs (AdmitBefore), so the two cannot disagree on a call's
// budget.
type charge struct {
	rule
	// key is the bucket and the caller's subject, NUL-separated: every
	// caller has its own buckets, and a bucket never holds a NUL, so the
	// key is unambiguous.
	key  string
	risk mcpkit.Risk
}

// chargeFor returns the charge of one call of t by id, or false when t is
// not limited.
func (r Rules) chargeFor(id mcpkit.Identity, t *mcpkit.ToolInfo) (charge, bool) {
	ru, limited := r.ruleFor(t)
	if !limited {
		return charge{}, false
	}
	return charge{rule: ru, key: ru.bucket + "\x00" + id.Subject, risk: t.Policy.Risk}, true
}

// Admission marks a call the HTTP transport charged and admitted before
// the server ran (AdmitBefore). Check recognises the mark of its own gate
// for the same entry and does not charge the call again: one decision per
// call, whichever layer makes it. It is compared whole, so it names the
// entry by name and kind (a prompt may share a tool's name).
type Admission struct {
	by   *Gate
	name string
	kind mcpkit.Kind
}

// admission is g's mark for a call of t: what AdmitBefore hands out and
// what Check looks for.
func (g *Gate) admission(t *mcpkit.ToolInfo) Admission {
	return Admission{by: g, name: t.Name, kind: t.Kind}
}
