package surfacediff

import (
	"fmt"
	"slices"
	"strings"
)

// Category says who must look at a change before it ships. The order is
// severity: a higher category outranks a lower one.
type Category int

const (
	// Additive changes keep every client working and promise no more
	// than before: a new optional input, a widened constraint, a new
	// read-only tool, a description or title.
	Additive Category = iota + 1
	// Breaking changes can make a client's existing calls fail or
	// misread results: a tool or property removed or renamed, a new
	// required input, a narrowed constraint, an output property removed
	// or retyped.
	Breaking
	// SecurityReview changes weaken what the reviewed policy promised:
	// risk raised, a scope removed or replaced, Public turned on, approval
	// loosened, a flag default turned on, a redaction removed, a new write
	// or destructive tool.
	SecurityReview
)

// String is the category in words, as the report prints it.
func (c Category) String() string {
	switch c {
	case Additive:
		return "additive"
	case Breaking:
		return "breaking for clients"
	case SecurityReview:
		return "security review"
	}
	return fmt.Sprintf("category(%d)", int(c))
}

// Name is the category's identifier in JSON and in acknowledgements
// (-accept, MCPKIT_ACCEPT).
func (c Category) Name() string {
	switch c {
	case Additive:
		return "additive"
	case Breaking:
		return "breaking"
	case SecurityReview:
		return "security-review"
	}
	return ""
}

// MarshalText encodes the category by Name.
func (c Category) MarshalText() ([]byte, error) {
	if c.Name() == "" {
		return nil, fmt.Errorf("surfacediff: invalid category %d", int(c))
	}
	return []byte(c.Name()), nil
}

// UnmarshalText decodes a Name.
func (c *Category) UnmarshalText(b []byte) error {
	v, err := ParseCategory(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// ParseCategory reads a category name: "additive", "breaking" or
// "security-review" ("security" for short).
func ParseCategory(s string) (Category, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "additive":
		return Additive, nil
	case "breaking":
		return Breaking, nil
	case "security-review", "security":
		return SecurityReview, nil
	}
	return 0, fmt.Errorf("surfacediff: unknown change category %q: want additive, breaking or security-review", s)
}

// ParseCategories reads a comma-separated list of category names, as
// given to -accept or MCPKIT_ACCEPT. Empty entries are ignored.
func ParseCategories(list string) ([]Category, error) {
	var out []Category
	for _, s := range strings.Split(list, ",") {
		if strings.TrimSpace(s) == "" {
			continue
		}
		c, err := ParseCategory(s)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out, nil
}
