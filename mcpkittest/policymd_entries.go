package mcpkittest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/mcpkit-go/mcpkit/flags"
	"github.com/mcpkit-go/mcpkit/internal/flagdefault"
	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// entriesMarkdown renders POLICY.md's sections for resources (fixed and
// templates) and prompts: a table answering "should the agent be able to
// read (get) it?" with scope, approval and flag, then each entry in
// detail. Empty for a server with tools only, so that its POLICY.md is
// unchanged.
func entriesMarkdown(srv *mcpkit.Server) string {
	var b strings.Builder
	byName := func(a, b *mcpkit.ToolInfo) int { return strings.Compare(a.Name, b.Name) }
	res := slices.Clone(srv.Resources())
	slices.SortFunc(res, byName)
	prompts := slices.Clone(srv.Prompts())
	slices.SortFunc(prompts, byName)
	if len(res) > 0 {
		b.WriteString("\n## Resources\n\n")
		fmt.Fprintf(&b, "%d resources and resource templates. Should the agent be able to read each one?\n\n", len(res))
		b.WriteString("| resource | URI | answer | scopes | approval | flag (default if undefined) |\n")
		b.WriteString("|---|---|---|---|---|---|\n")
		for _, r := range res {
			name := "`" + r.Name + "`"
			if r.Kind == mcpkit.KindResourceTemplate {
				name += " (template)"
			}
			fmt.Fprintf(&b, "| %s | `%s` | %s | %s | %s | `%s` (%s) |\n",
				name, r.URI, shortAnswer(r), scopes(r), r.Policy.Approval, flags.FlagKey(r), flagdefault.Of(r.Policy.Risk))
		}
		for _, r := range res {
			entryDetail(&b, r, "read")
		}
	}
	if len(prompts) > 0 {
		b.WriteString("\n## Prompts\n\n")
		fmt.Fprintf(&b, "%d prompts. Should the agent be able to get each one?\n\n", len(prompts))
		b.WriteString("| prompt | arguments | answer | scopes | approval | flag (default if undefined) |\n")
		b.WriteString("|---|---|---|---|---|---|\n")
		for _, p := range prompts {
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | `%s` (%s) |\n",
				p.Name, argumentList(p), shortAnswer(p), scopes(p), p.Policy.Approval, flags.FlagKey(p), flagdefault.Of(p.Policy.Risk))
		}
		for _, p := range prompts {
			entryDetail(&b, p, "get")
		}
	}
	return b.String()
}

// entryDetail is one resource's, template's or prompt's section.
func entryDetail(b *strings.Builder, t *mcpkit.ToolInfo, verb string) {
	title := t.Title
	if title == "" {
		title = t.Name
	}
	fmt.Fprintf(b, "\n### %s `%s`: %s\n\n", t.Kind.Noun(), t.Name, title)
	fmt.Fprintf(b, "%s\n\n", t.Description)
	fmt.Fprintf(b, "- **Should the agent be able to %s it?** %s\n", verb, entryAnswer(t, verb))
	switch t.Kind {
	case mcpkit.KindResource:
		fmt.Fprintf(b, "- URI: `%s`\n", t.URI)
	case mcpkit.KindResourceTemplate:
		fmt.Fprintf(b, "- URI template: `%s`; variables: %s\n", t.URI, argumentList(t))
	case mcpkit.KindPrompt:
		fmt.Fprintf(b, "- Arguments: %s\n", argumentList(t))
	}
	if t.MIMEType != "" {
		fmt.Fprintf(b, "- MIME type: %s\n", t.MIMEType)
	}
	fmt.Fprintf(b, "- Scopes: %s\n", scopes(t))
	fmt.Fprintf(b, "- Approval: %s\n", t.Policy.Approval)
	fmt.Fprintf(b, "- Feature flag: `%s`; if the flag is not defined: %s\n", flags.FlagKey(t), flagdefault.Of(t.Policy.Risk))
	redact := "none"
	if len(t.Redact) > 0 {
		redact = "`" + strings.Join(t.Redact, "`, `") + "`"
	}
	fmt.Fprintf(b, "- Redacted in audit records: %s (plus anything that looks like a credential", redact)
	if t.Kind != mcpkit.KindPrompt {
		b.WriteString(", in the URI too")
	}
	b.WriteString(")\n")
}

// entryAnswer is answer for a read or a get.
func entryAnswer(t *mcpkit.ToolInfo, verb string) string {
	who := "any authenticated caller"
	if len(t.Policy.Scopes) > 0 {
		who = "a caller holding " + scopes(t)
	}
	s := "Yes, for " + who + " while its flag is on"
	switch {
	case t.Policy.Approval.Always():
		s += ", and only after a human approves each " + verb
	case t.Policy.Approval.Conditional():
		s += ", with a human's approval " + t.Policy.Approval.String()
	}
	return s + "."
}

// argumentList names a template's variables or a prompt's arguments, the
// required ones marked.
func argumentList(t *mcpkit.ToolInfo) string {
	var s struct {
		Properties map[string]json.RawMessage `json:"properties"`
		Required   []string                   `json:"required"`
	}
	_ = json.Unmarshal(t.InputSchema, &s)
	if len(s.Properties) == 0 {
		return "none"
	}
	var out []string
	for name := range s.Properties {
		a := "`" + name + "`"
		if slices.Contains(s.Required, name) {
			a += " (required)"
		}
		out = append(out, a)
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}
