package surfacediff

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Resource is one fixed resource as the golden surface file records it.
type Resource struct {
	Name        string `json:"name"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description"`
	URI         string `json:"uri"`
	MIMEType    string `json:"mime_type,omitempty"`
	Policy      Policy `json:"policy"`
}

// ResourceTemplate is one resource template as the golden surface file
// records it: Variables is the JSON Schema mcpkit generates for the
// template's variables (its input type).
type ResourceTemplate struct {
	Name        string          `json:"name"`
	Title       string          `json:"title,omitempty"`
	Description string          `json:"description"`
	URITemplate string          `json:"uri_template"`
	MIMEType    string          `json:"mime_type,omitempty"`
	Policy      Policy          `json:"policy"`
	Variables   json.RawMessage `json:"variables"`
}

// Prompt is one prompt as the golden surface file records it: Arguments is
// the JSON Schema mcpkit generates for its arguments (its input type).
type Prompt struct {
	Name        string          `json:"name"`
	Title       string          `json:"title,omitempty"`
	Description string          `json:"description"`
	Policy      Policy          `json:"policy"`
	Arguments   json.RawMessage `json:"arguments"`
}

// Entry kinds as Change.Entry names them; a tool's changes leave it empty.
const (
	EntryResource         = "resource"
	EntryResourceTemplate = "resource_template"
	EntryPrompt           = "prompt"
)

// entry is what the classifier compares of a resource, a template or a
// prompt: address is the URI or URI template, schema the variables or
// arguments.
type entry struct {
	kind, name, title, description string
	address, mimeType              string
	policy                         Policy
	schema                         json.RawMessage
}

func (s *Surface) entries(kind string) map[string]*entry {
	m := map[string]*entry{}
	if s == nil {
		return m
	}
	switch kind {
	case EntryResource:
		for _, r := range s.Resources {
			m[r.Name] = &entry{kind, r.Name, r.Title, r.Description, r.URI, r.MIMEType, r.Policy, nil}
		}
	case EntryResourceTemplate:
		for _, r := range s.Templates {
			m[r.Name] = &entry{kind, r.Name, r.Title, r.Description, r.URITemplate, r.MIMEType, r.Policy, r.Variables}
		}
	case EntryPrompt:
		for _, p := range s.Prompts {
			m[p.Name] = &entry{kind, p.Name, p.Title, p.Description, "", "", p.Policy, p.Arguments}
		}
	}
	return m
}

// normalizeEntries checks the resources, templates and prompts of a parsed
// file: names present and unique per kind (resources and templates share
// one namespace, as in mcpkit), policies readable, schemas objects.
func (s *Surface) normalizeEntries() error {
	seen := map[string]string{}
	check := func(kind, name string, p *Policy, schema json.RawMessage, address string) error {
		switch {
		case name == "":
			return fmt.Errorf("a %s has no name", nounOf(kind))
		case kind != EntryPrompt && address == "":
			return fmt.Errorf("%s %q has no URI", nounOf(kind), name)
		}
		ns := "resource"
		if kind == EntryPrompt {
			ns = "prompt"
		}
		if seen[ns+" "+name] != "" {
			return fmt.Errorf("%s %q is listed twice", ns, name)
		}
		seen[ns+" "+name] = kind
		if err := p.normalize(); err != nil {
			return fmt.Errorf("%s %q: %v", nounOf(kind), name, err)
		}
		if err := objectSchemas(map[string]json.RawMessage{"schema": schema}); err != nil {
			return fmt.Errorf("%s %q: %v", nounOf(kind), name, err)
		}
		return nil
	}
	for i := range s.Resources {
		r := &s.Resources[i]
		if err := check(EntryResource, r.Name, &r.Policy, nil, r.URI); err != nil {
			return err
		}
	}
	for i := range s.Templates {
		r := &s.Templates[i]
		if err := check(EntryResourceTemplate, r.Name, &r.Policy, r.Variables, r.URITemplate); err != nil {
			return err
		}
	}
	for i := range s.Prompts {
		p := &s.Prompts[i]
		if err := check(EntryPrompt, p.Name, &p.Policy, p.Arguments, "-"); err != nil {
			return err
		}
	}
	return nil
}

// nounOf is the entry kind in words: "tool", "resource", "resource
// template", "prompt".
func nounOf(kind string) string {
	switch kind {
	case "":
		return "tool"
	case EntryResourceTemplate:
		return "resource template"
	}
	return kind
}

// compareEntries classifies the differences among the resources, templates
// or prompts (kind) of two surfaces with the tools' rules: removed or
// renamed (where clients address it by name) is breaking; new and
// readable without a scope, or a policy loosened, needs a security review.
func (d *differ) compareEntries(kind string, old, new *Surface) {
	d.entry = kind
	defer func() { d.entry = "" }()
	o, n := old.entries(kind), new.entries(kind)
	var removed, added []string
	for name := range o {
		if _, ok := n[name]; !ok {
			removed = append(removed, name)
		}
	}
	for name := range n {
		if _, ok := o[name]; !ok {
			added = append(added, name)
		}
	}
	slices.Sort(removed)
	slices.Sort(added)
	// A resource or template keeps its address across a rename (clients
	// read it by URI); a prompt keeps its arguments.
	renamed := pairRenames(removed, added, func(a, b string) bool {
		if kind == EntryPrompt {
			return canonical(o[a].schema) == canonical(n[b].schema)
		}
		return o[a].address == n[b].address
	})
	noun := nounOf(kind)
	for _, name := range removed {
		if to, ok := renamed[name]; ok {
			if kind == EntryPrompt {
				d.add(Breaking, kind+"_renamed", to, "", name, to,
					fmt.Sprintf("renamed from %s: clients getting %s get an unknown prompt", name, name))
			} else {
				d.add(Additive, kind+"_renamed", to, "", name, to,
					fmt.Sprintf("renamed from %s (same URI %s)", name, n[to].address))
			}
			d.changedEntry(o[name], n[to])
			continue
		}
		what := "clients getting it get an unknown prompt"
		switch kind {
		case EntryResource:
			what = "clients reading " + o[name].address + " get an unknown resource"
		case EntryResourceTemplate:
			what = "clients reading URIs of " + o[name].address + " get an unknown resource"
		}
		d.add(Breaking, kind+"_removed", name, "", name, "", fmt.Sprintf("%s removed: %s", noun, what))
	}
	renamedTo := map[string]bool{}
	for _, to := range renamed {
		renamedTo[to] = true
	}
	for _, name := range added {
		if renamedTo[name] {
			continue
		}
		e := n[name]
		if len(e.policy.Scopes) == 0 {
			d.add(SecurityReview, kind+"_added", name, "", "", "", fmt.Sprintf("new %s readable without a scope (%s)", noun, scopeWords(e.policy)))
			continue
		}
		d.add(Additive, kind+"_added", name, "", "", "", fmt.Sprintf("new %s (%s)", noun, scopeWords(e.policy)))
	}
	names := make([]string, 0, len(o))
	for name := range o {
		if _, ok := n[name]; ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		d.changedEntry(o[name], n[name])
	}
}

// changedEntry compares two versions of one resource, template or prompt.
func (d *differ) changedEntry(o, n *entry) {
	name := n.name
	d.policy(name, o.policy, n.policy)
	if o.title != n.title {
		d.add(Additive, "title_changed", name, "", o.title, n.title, fmt.Sprintf("title changed from %q to %q", o.title, n.title))
	}
	if o.description != n.description {
		d.add(Additive, "description_changed", name, "", o.description, n.description, "description changed")
	}
	if o.mimeType != n.mimeType {
		d.add(Breaking, "mime_type_changed", name, "", o.mimeType, n.mimeType,
			fmt.Sprintf("MIME type changed from %s to %s: clients may misread the contents", orNone(o.mimeType), orNone(n.mimeType)))
	}
	switch n.kind {
	case EntryResource:
		if o.address != n.address {
			d.add(Breaking, "uri_changed", name, "", o.address, n.address,
				fmt.Sprintf("URI changed from %s to %s: clients reading %s get an unknown resource", o.address, n.address, o.address))
		}
	case EntryResourceTemplate:
		if d.templateVariables(name, o.address, n.address) {
			// The variables' schemas are compared only under the same
			// names: a renamed variable is reported once, above.
			d.schema(name, "variables", decodeSchema(o.schema), decodeSchema(n.schema), input)
		}
	case EntryPrompt:
		d.schema(name, "arguments", decodeSchema(o.schema), decodeSchema(n.schema), input)
	}
}

var templateVar = regexp.MustCompile(`\{([^{}]*)\}`)

func templateVars(t string) []string {
	var out []string
	for _, m := range templateVar.FindAllStringSubmatch(t, -1) {
		out = append(out, m[1])
	}
	return out
}

// templateVariables classifies a change of URI template; it reports
// whether the variables kept their names.
func (d *differ) templateVariables(name, o, n string) bool {
	if o == n {
		return true
	}
	ov, nv := templateVars(o), templateVars(n)
	var gone, extra []string
	for _, v := range ov {
		if !slices.Contains(nv, v) {
			gone = append(gone, v)
		}
	}
	for _, v := range nv {
		if !slices.Contains(ov, v) {
			extra = append(extra, v)
		}
	}
	switch {
	case len(gone) == 1 && len(extra) == 1:
		d.add(Breaking, "template_variable_renamed", name, "variables."+gone[0], gone[0], extra[0],
			fmt.Sprintf("URI template variable {%s} renamed to {%s} (%s, was %s)", gone[0], extra[0], n, o))
	case len(gone) > 0 || len(extra) > 0:
		d.add(Breaking, "template_variables_changed", name, "", strings.Join(ov, ", "), strings.Join(nv, ", "),
			fmt.Sprintf("URI template variables changed from {%s} to {%s} (%s, was %s): URIs clients built no longer match",
				strings.Join(ov, "}, {"), strings.Join(nv, "}, {"), n, o))
	default:
		d.add(Breaking, "uri_template_changed", name, "", o, n,
			fmt.Sprintf("URI template changed from %s to %s: URIs clients built no longer match", o, n))
	}
	return len(gone) == 0 && len(extra) == 0
}

// Label is how a report names the entry a change is about: the tool's
// name, or "resource incident", "resource template incident_by_id",
// "prompt postmortem".
func (c Change) Label() string {
	if c.Entry == "" {
		return c.Tool
	}
	return nounOf(c.Entry) + " " + c.Tool
}
