package surfacediff

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// direction says which way data flows through a schema: a client writes
// arguments (a narrower schema refuses calls that used to pass) and reads
// results (a property it relied on may vanish).
type direction int

const (
	input direction = iota
	output
)

// Keywords compared by meaning; any other keyword that differs is reported
// as an unanalysed, breaking change.
var (
	lowerBounds = []string{"minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties"}
	upperBounds = []string{"maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties"}
	restricting = []string{"pattern", "format", "multipleOf"}
	docs        = []string{"description", "title", "examples", "$comment", "deprecated", "readOnly", "writeOnly", "$schema", "$id"}
	handled     = slices.Concat(lowerBounds, upperBounds, restricting, docs,
		[]string{"type", "properties", "required", "enum", "const", "additionalProperties", "items", "default", "uniqueItems", xMCPHeader})
)

// xMCPHeader marks an input property that HTTP clients mirror into an
// Mcp-Param-* header (protocol 2026-07-28).
const xMCPHeader = "x-mcp-header"

// schema compares one (sub)schema at path.
func (d *differ) schema(tool, path string, o, n map[string]any, dir direction) {
	if canonicalValue(o) == canonicalValue(n) {
		return
	}
	d.types(tool, path, o, n, dir)
	d.properties(tool, path, o, n, dir)
	d.enum(tool, path, o, n, dir)
	for _, k := range lowerBounds {
		d.bound(tool, path, k, o, n, dir, +1)
	}
	for _, k := range upperBounds {
		d.bound(tool, path, k, o, n, dir, -1)
	}
	for _, k := range restricting {
		d.restriction(tool, path, k, o, n, dir)
	}
	if ou, nu := o["uniqueItems"] == true, n["uniqueItems"] == true; ou != nu {
		d.constraint(tool, path, dir, nu, "uniqueItems", fmt.Sprint(ou), fmt.Sprint(nu))
	}
	d.additional(tool, path, o, n, dir)
	d.items(tool, path, o, n, dir)
	d.paramHeader(tool, path, o, n)
	if od, nd := canonicalIf(o, "default"), canonicalIf(n, "default"); od != nd {
		if dir == input {
			d.add(Breaking, "default_changed", tool, path, od, nd,
				fmt.Sprintf("%s: default changed from %s to %s: callers that omit it get another value", path, orNone(od), orNone(nd)))
		} else {
			d.add(Additive, "default_changed", tool, path, od, nd, fmt.Sprintf("%s: default changed from %s to %s", path, orNone(od), orNone(nd)))
		}
	}
	var docChanged []string
	for _, k := range docs {
		if canonicalIf(o, k) != canonicalIf(n, k) {
			docChanged = append(docChanged, k)
		}
	}
	if len(docChanged) > 0 {
		d.add(Additive, "schema_docs_changed", tool, path, "", "", fmt.Sprintf("%s: %s changed", path, strings.Join(docChanged, ", ")))
	}
	var unknown []string
	for _, k := range keys(o, n) {
		if !slices.Contains(handled, k) && canonicalIf(o, k) != canonicalIf(n, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		d.add(Breaking, "schema_changed", tool, path, "", "",
			fmt.Sprintf("%s: %s changed (not analysed; treated as breaking)", path, strings.Join(unknown, ", ")))
	}
}

// keys is the sorted union of the maps' keys.
func keys(ms ...map[string]any) []string {
	var out []string
	for _, m := range ms {
		out = slices.AppendSeq(out, maps.Keys(m))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// canonicalIf is the canonical JSON of m[k], or "" when absent.
func canonicalIf(m map[string]any, k string) string {
	v, ok := m[k]
	if !ok {
		return ""
	}
	return canonicalValue(v)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// constraint records a constraint that narrowed (an input refuses more) or
// widened.
func (d *differ) constraint(tool, path string, dir direction, narrowed bool, what, from, to string) {
	change := fmt.Sprintf("%s: %s changed from %s to %s", path, what, orNone(from), orNone(to))
	switch {
	case dir == output:
		d.add(Additive, "output_constraint_changed", tool, path, from, to, change)
	case narrowed:
		d.add(Breaking, "constraint_narrowed", tool, path, from, to, change+": narrowed, calls that passed may be refused")
	default:
		d.add(Additive, "constraint_widened", tool, path, from, to, change+": widened")
	}
}

// typeSet is the set of JSON types a schema allows; nil means any.
func typeSet(m map[string]any) []string {
	switch t := m["type"].(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, v := range t {
			if s, ok := v.(string); ok {
				out = append(out, s)
			}
		}
		slices.Sort(out)
		return out
	}
	return nil
}

// accepts reports whether every value of the types in sub is allowed by
// super (nil: any type).
func accepts(super, sub []string) bool {
	if super == nil {
		return true
	}
	if sub == nil {
		return false
	}
	for _, t := range sub {
		if !slices.Contains(super, t) && !(t == "integer" && slices.Contains(super, "number")) {
			return false
		}
	}
	return true
}

func typeWords(ts []string) string {
	if ts == nil {
		return "any"
	}
	return strings.Join(ts, " or ")
}

func (d *differ) types(tool, path string, o, n map[string]any, dir direction) {
	ot, nt := typeSet(o), typeSet(n)
	if slices.Equal(ot, nt) {
		return
	}
	from, to := typeWords(ot), typeWords(nt)
	switch {
	case dir == output:
		d.add(Breaking, "type_changed", tool, path, from, to, fmt.Sprintf("%s: type changed from %s to %s: clients may misread results", path, from, to))
	case accepts(nt, ot):
		d.add(Additive, "type_widened", tool, path, from, to, fmt.Sprintf("%s: type widened from %s to %s", path, from, to))
	default:
		d.add(Breaking, "type_changed", tool, path, from, to, fmt.Sprintf("%s: type changed from %s to %s: calls that passed may be refused", path, from, to))
	}
}

func stringSet(v any) []string {
	var out []string
	if a, ok := v.([]any); ok {
		for _, x := range a {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

func (d *differ) properties(tool, path string, o, n map[string]any, dir direction) {
	op, _ := o["properties"].(map[string]any)
	np, _ := n["properties"].(map[string]any)
	oreq, nreq := stringSet(o["required"]), stringSet(n["required"])
	var removed, added []string
	for _, k := range keys(op) {
		if _, ok := np[k]; !ok {
			removed = append(removed, k)
		}
	}
	for _, k := range keys(np) {
		if _, ok := op[k]; !ok {
			added = append(added, k)
		}
	}
	renamed := pairRenames(removed, added, func(a, b string) bool {
		return canonicalValue(op[a]) == canonicalValue(np[b])
	})
	renamedTo := map[string]bool{}
	for _, k := range removed {
		p := path + "." + k
		if to, ok := renamed[k]; ok {
			renamedTo[to] = true
			d.add(Breaking, "property_renamed", tool, p, p, path+"."+to, fmt.Sprintf("%s renamed to %s", p, path+"."+to))
			continue
		}
		if dir == input {
			d.add(Breaking, "property_removed", tool, p, p, "", fmt.Sprintf("%s removed: calls that send it are refused as an unknown field", p))
		} else {
			d.add(Breaking, "property_removed", tool, p, p, "", fmt.Sprintf("%s removed from the result: clients reading it find nothing", p))
		}
	}
	for _, k := range added {
		if renamedTo[k] {
			continue
		}
		p := path + "." + k
		switch {
		case dir == output:
			d.add(Additive, "property_added", tool, p, "", p, fmt.Sprintf("%s added to the result", p))
		case slices.Contains(nreq, k):
			d.add(Breaking, "required_input_added", tool, p, "", p, fmt.Sprintf("new required input %s: calls without it are refused", p))
		default:
			d.add(Additive, "optional_input_added", tool, p, "", p, fmt.Sprintf("new optional input %s", p))
		}
	}
	for _, k := range keys(op) {
		ns, ok := np[k]
		if !ok {
			continue
		}
		p := path + "." + k
		wasReq, isReq := slices.Contains(oreq, k), slices.Contains(nreq, k)
		switch {
		case wasReq == isReq:
		case dir == input && isReq:
			d.add(Breaking, "input_now_required", tool, p, "optional", "required", fmt.Sprintf("%s is now required: calls without it are refused", p))
		case dir == input:
			d.add(Additive, "input_now_optional", tool, p, "required", "optional", fmt.Sprintf("%s is now optional", p))
		case isReq:
			d.add(Additive, "output_now_required", tool, p, "optional", "required", fmt.Sprintf("%s is now always in the result", p))
		default:
			d.add(Breaking, "output_now_optional", tool, p, "required", "optional", fmt.Sprintf("%s may now be absent from the result", p))
		}
		om, _ := op[k].(map[string]any)
		nm, _ := ns.(map[string]any)
		if om != nil && nm != nil {
			d.schema(tool, p, om, nm, dir)
		}
	}
}

// enumSet is the values a schema allows by enum or const; nil means no
// restriction.
func enumSet(m map[string]any) []string {
	if c, ok := m["const"]; ok {
		return []string{canonicalValue(c)}
	}
	a, ok := m["enum"].([]any)
	if !ok {
		return nil
	}
	out := []string{}
	for _, v := range a {
		out = append(out, canonicalValue(v))
	}
	return out
}

func (d *differ) enum(tool, path string, o, n map[string]any, dir direction) {
	oe, ne := enumSet(o), enumSet(n)
	if oe == nil && ne == nil {
		return
	}
	var gone, extra []string
	for _, v := range oe {
		if !slices.Contains(ne, v) {
			gone = append(gone, v)
		}
	}
	for _, v := range ne {
		if !slices.Contains(oe, v) {
			extra = append(extra, v)
		}
	}
	from, to := "["+strings.Join(oe, ", ")+"]", "["+strings.Join(ne, ", ")+"]"
	switch {
	case oe == nil && dir == input:
		d.add(Breaking, "enum_narrowed", tool, path, "any", to, fmt.Sprintf("%s: now restricted to %s", path, to))
	case oe == nil:
		d.add(Additive, "output_enum_added", tool, path, "any", to, fmt.Sprintf("%s: now documented as one of %s", path, to))
	case ne == nil && dir == input:
		d.add(Additive, "enum_widened", tool, path, from, "any", fmt.Sprintf("%s: no longer restricted to %s", path, from))
	case ne == nil:
		d.add(Breaking, "output_enum_widened", tool, path, from, "any", fmt.Sprintf("%s: no longer restricted to %s: clients may get values they do not expect", path, from))
	case dir == input && len(gone) > 0:
		d.add(Breaking, "enum_narrowed", tool, path, from, to, fmt.Sprintf("%s: enum narrowed, %s no longer accepted", path, strings.Join(gone, ", ")))
	case dir == input && len(extra) > 0:
		d.add(Additive, "enum_widened", tool, path, from, to, fmt.Sprintf("%s: enum widened, now also accepts %s", path, strings.Join(extra, ", ")))
	case len(extra) > 0:
		d.add(Breaking, "output_enum_widened", tool, path, from, to, fmt.Sprintf("%s: may now return %s, which clients may not expect", path, strings.Join(extra, ", ")))
	case len(gone) > 0:
		d.add(Additive, "output_enum_narrowed", tool, path, from, to, fmt.Sprintf("%s: no longer returns %s", path, strings.Join(gone, ", ")))
	}
}

// bound compares a numeric bound; sign is +1 for a lower bound (raising it
// narrows) and -1 for an upper bound.
func (d *differ) bound(tool, path, k string, o, n map[string]any, dir direction, sign float64) {
	ov, oh := o[k].(float64)
	nv, nh := n[k].(float64)
	if oh == nh && (!oh || ov == nv) {
		return
	}
	var narrowed bool
	switch {
	case !oh:
		narrowed = true
	case !nh:
		narrowed = false
	default:
		narrowed = (nv-ov)*sign > 0
	}
	d.constraint(tool, path, dir, narrowed, k, canonicalIf(o, k), canonicalIf(n, k))
}

// restriction compares a keyword that can only be added (narrowing),
// removed (widening) or changed (which cannot be ordered: narrowing).
func (d *differ) restriction(tool, path, k string, o, n map[string]any, dir direction) {
	ov, nv := canonicalIf(o, k), canonicalIf(n, k)
	if ov == nv {
		return
	}
	d.constraint(tool, path, dir, nv != "", k, ov, nv)
}

// additional compares additionalProperties: false closes an object.
func (d *differ) additional(tool, path string, o, n map[string]any, dir direction) {
	ov, nv := canonicalIf(o, "additionalProperties"), canonicalIf(n, "additionalProperties")
	if ov == nv {
		return
	}
	closed := func(s string) bool { return s == "false" }
	open := func(s string) bool { return s == "" || s == "true" || s == "{}" }
	switch {
	case closed(ov) && open(nv):
		d.constraint(tool, path, dir, false, "additionalProperties", ov, nv)
	case open(ov) && !open(nv):
		d.constraint(tool, path, dir, true, "additionalProperties", ov, nv)
	default:
		om, _ := o["additionalProperties"].(map[string]any)
		nm, _ := n["additionalProperties"].(map[string]any)
		if om != nil && nm != nil {
			d.schema(tool, path+"{}", om, nm, dir)
			return
		}
		d.constraint(tool, path, dir, true, "additionalProperties", ov, nv)
	}
}

func (d *differ) items(tool, path string, o, n map[string]any, dir direction) {
	om, oh := o["items"].(map[string]any)
	nm, nh := n["items"].(map[string]any)
	switch {
	case oh && nh:
		d.schema(tool, path+"[]", om, nm, dir)
	case !oh && !nh:
		if canonicalIf(o, "items") != canonicalIf(n, "items") {
			d.constraint(tool, path, dir, true, "items", canonicalIf(o, "items"), canonicalIf(n, "items"))
		}
	case dir == output && !nh:
		d.add(Breaking, "type_changed", tool, path+"[]", "", "", fmt.Sprintf("%s[]: items are no longer described: clients may misread results", path))
	default:
		d.constraint(tool, path+"[]", dir, nh, "items", canonicalIf(o, "items"), canonicalIf(n, "items"))
	}
}

// paramHeader classifies an x-mcp-header change. A newly mirrored argument
// is seen by every proxy on the way (a security review) and must be sent
// as a header by 2026-07-28 HTTP clients, which refuse-and-relist until
// they do (breaking); a removed or renamed header refuses clients that
// still send the old one until they list the tools again (breaking).
func (d *differ) paramHeader(tool, path string, o, n map[string]any) {
	ov, _ := o[xMCPHeader].(string)
	nv, _ := n[xMCPHeader].(string)
	if canonicalIf(o, xMCPHeader) == canonicalIf(n, xMCPHeader) {
		return
	}
	switch {
	case ov == "" && nv != "":
		d.add(SecurityReview, "param_header_added", tool, path, "", nv,
			fmt.Sprintf("%s: now also sent as HTTP header Mcp-Param-%s, visible to every proxy on the way", path, nv))
		d.add(Breaking, "param_header_added", tool, path, "", nv,
			fmt.Sprintf("%s: HTTP clients of protocol 2026-07-28 must now send it as Mcp-Param-%s", path, nv))
	case nv == "":
		d.add(Breaking, "param_header_removed", tool, path, ov, "",
			fmt.Sprintf("%s: no longer sent as Mcp-Param-%s: clients still sending it are refused until they list the tools again", path, ov))
	default:
		d.add(Breaking, "param_header_renamed", tool, path, ov, nv,
			fmt.Sprintf("%s: header renamed from Mcp-Param-%s to Mcp-Param-%s: clients still sending the old one are refused until they list the tools again", path, ov, nv))
	}
}
