package surfacediff

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Change is one classified difference between two surfaces.
type Change struct {
	// Category is who must look at the change.
	Category Category `json:"category"`
	// Kind names the rule that classified it, for machines:
	// "approval_loosened", "property_removed", "enum_narrowed", ...
	Kind string `json:"kind"`
	// Tool is the tool's name in the new surface (the old name for a
	// removed tool); for a resource, template or prompt (see Entry), its
	// name.
	Tool string `json:"tool"`
	// Entry is empty for a tool's change, else what the change is about:
	// EntryResource, EntryResourceTemplate or EntryPrompt.
	Entry string `json:"entry,omitempty"`
	// Path locates a schema change: "arguments.filter.severity",
	// "result.items[]". Empty for changes to the tool or its policy.
	Path string `json:"path,omitempty"`
	// From and To are the old and new values in words, where there are
	// any.
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Detail is the change in plain words, without the tool's name.
	Detail string `json:"detail"`
}

// String is the change as one line of a report:
// "delete_incident: approval loosened from always to never (security review)".
func (c Change) String() string {
	return fmt.Sprintf("%s: %s (%s)", c.Label(), c.Detail, c.Category)
}

// Report is the classified difference between two surfaces, most severe
// change first.
type Report struct {
	Changes []Change `json:"changes"`
}

// Empty reports whether the surfaces are equivalent.
func (r *Report) Empty() bool { return r == nil || len(r.Changes) == 0 }

// Highest is the most severe category in the report; zero when empty.
func (r *Report) Highest() Category {
	if r.Empty() {
		return 0
	}
	return r.Changes[0].Category
}

// Categories lists the categories present, most severe first.
func (r *Report) Categories() []Category {
	var out []Category
	if r == nil {
		return out
	}
	for _, c := range r.Changes {
		if !slices.Contains(out, c.Category) {
			out = append(out, c.Category)
		}
	}
	return out
}

// Unaccepted returns the categories present that need an acknowledgement
// (everything but additive) and are not in accepted, most severe first.
func (r *Report) Unaccepted(accepted []Category) []Category {
	var out []Category
	for _, c := range r.Categories() {
		if c != Additive && !slices.Contains(accepted, c) {
			out = append(out, c)
		}
	}
	return out
}

// Lines is the report in plain words, one line per change.
func (r *Report) Lines() []string {
	var out []string
	if r == nil {
		return out
	}
	for _, c := range r.Changes {
		out = append(out, c.String())
	}
	return out
}

// String is Lines joined by newlines.
func (r *Report) String() string { return strings.Join(r.Lines(), "\n") }

// JSON is the machine-readable report: {"highest": ..., "changes": [...]}.
func (r *Report) JSON() ([]byte, error) {
	changes := []Change{}
	if r != nil && r.Changes != nil {
		changes = r.Changes
	}
	var highest string
	if h := r.Highest(); h != 0 {
		highest = h.Name()
	}
	b, err := json.MarshalIndent(struct {
		Highest string   `json:"highest,omitempty"`
		Changes []Change `json:"changes"`
	}{highest, changes}, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Markdown is a short summary to paste into a pull request: one section
// per category, most severe first.
func (r *Report) Markdown() string {
	var b strings.Builder
	b.WriteString("### Tool surface changes\n\n")
	if r.Empty() {
		b.WriteString("No change to the tool surface.\n")
		return b.String()
	}
	counts := map[Category]int{}
	for _, c := range r.Changes {
		counts[c.Category]++
	}
	var parts []string
	for _, cat := range r.Categories() {
		parts = append(parts, fmt.Sprintf("%d %s", counts[cat], cat))
	}
	b.WriteString(strings.Join(parts, ", ") + ".\n")
	for _, cat := range r.Categories() {
		fmt.Fprintf(&b, "\n**%s**\n\n", capitalize(cat.String()))
		for _, c := range r.Changes {
			if c.Category == cat {
				fmt.Fprintf(&b, "- %s: %s\n", markdownLabel(c), c.Detail)
			}
		}
	}
	return b.String()
}

// markdownLabel is the change's subject with the name as code: "`x`",
// "resource `x`".
func markdownLabel(c Change) string {
	if c.Entry == "" {
		return "`" + c.Tool + "`"
	}
	return nounOf(c.Entry) + " `" + c.Tool + "`"
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// sortChanges orders changes most severe first, then tools before
// resources, templates and prompts, then by name, keeping the order of
// discovery within an entry.
func sortChanges(cs []Change) {
	slices.SortStableFunc(cs, func(a, b Change) int {
		if a.Category != b.Category {
			return int(b.Category) - int(a.Category)
		}
		if a.Entry != b.Entry {
			return entryRank(a.Entry) - entryRank(b.Entry)
		}
		return strings.Compare(a.Tool, b.Tool)
	})
}

func entryRank(kind string) int {
	return slices.Index([]string{"", EntryResource, EntryResourceTemplate, EntryPrompt}, kind)
}
