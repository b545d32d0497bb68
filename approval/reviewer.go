package approval

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// ReviewerRule says who may see and decide requests in a Console. Being
// signed in is not enough: a reviewer must hold every scope in Scopes and,
// when Groups is set, belong to at least one of them. The console checks
// the rule on every page view, list and decision.
type ReviewerRule struct {
	// Scopes the reviewer must all hold, for example "incidents:approve".
	Scopes []string
	// Groups of which the reviewer must belong to at least one; empty
	// means no group is required.
	Groups []string
	// ToolScopes also requires the tool's own Policy.Scopes, so that only
	// someone who could make the call may approve it.
	ToolScopes bool
}

func (r ReviewerRule) empty() bool {
	return len(r.Scopes) == 0 && len(r.Groups) == 0 && !r.ToolScopes
}

func (r ReviewerRule) validate(what string) error {
	for _, s := range r.Scopes {
		if strings.TrimSpace(s) == "" {
			return fmt.Errorf("approval: %s: an empty scope name", what)
		}
	}
	for _, g := range r.Groups {
		if strings.TrimSpace(g) == "" {
			return fmt.Errorf("approval: %s: an empty group name", what)
		}
	}
	return nil
}

// missing says what id lacks to meet r for a request to a tool needing
// toolScopes; empty when id meets r.
func (r ReviewerRule) missing(id mcpkit.Identity, toolScopes []string) []string {
	var out []string
	need := r.Scopes
	if r.ToolScopes {
		need = append(slices.Clone(need), toolScopes...)
	}
	for _, s := range id.MissingScopes(need...) {
		if !slices.Contains(out, "scope "+s) {
			out = append(out, "scope "+s)
		}
	}
	if len(r.Groups) > 0 && !slices.ContainsFunc(r.Groups, id.InGroup) {
		out = append(out, "membership in one of the groups "+strings.Join(r.Groups, ", "))
	}
	return out
}

// reviewers is the console's resolved rule: the global rule, which every
// reviewer must meet to use the console at all, and the per-tool rules,
// which a reviewer must meet as well to see and decide that tool's
// requests.
type reviewers struct {
	global ReviewerRule
	tools  map[string]ReviewerRule
}

func newReviewers(opts ConsoleConfig) (reviewers, error) {
	g := opts.Reviewers
	if err := g.validate("Reviewers"); err != nil {
		return reviewers{}, err
	}
	switch {
	case opts.InsecureAnyReviewer && (len(g.Scopes) > 0 || len(g.Groups) > 0):
		return reviewers{}, errors.New("approval: ConsoleConfig sets both a Reviewers rule and InsecureAnyReviewer; drop InsecureAnyReviewer")
	case !opts.InsecureAnyReviewer && len(g.Scopes) == 0 && len(g.Groups) == 0:
		return reviewers{}, errors.New(`approval: a Console needs a Reviewers rule naming the scopes (or groups) an approver must hold, for example approval.ReviewerRule{Scopes: []string{"incidents:approve"}}; without one every signed-in user could approve (set InsecureAnyReviewer only for a single-operator setup)`)
	}
	rv := reviewers{global: g, tools: make(map[string]ReviewerRule, len(opts.ToolReviewers))}
	for tool, r := range opts.ToolReviewers {
		if strings.TrimSpace(tool) == "" {
			return reviewers{}, errors.New("approval: ToolReviewers has an empty tool name")
		}
		if r.empty() {
			return reviewers{}, fmt.Errorf("approval: ToolReviewers[%q] requires nothing; remove it or name scopes, groups or ToolScopes", tool)
		}
		if err := r.validate(fmt.Sprintf("ToolReviewers[%q]", tool)); err != nil {
			return reviewers{}, err
		}
		rv.tools[tool] = r
	}
	return rv, nil
}

// console says what id lacks to use the console at all.
func (rv reviewers) console(id mcpkit.Identity) []string {
	return ReviewerRule{Scopes: rv.global.Scopes, Groups: rv.global.Groups}.missing(id, nil)
}

// request says what id lacks to see and decide r.
func (rv reviewers) request(id mcpkit.Identity, r *Request) []string {
	out := rv.global.missing(id, r.ToolScopes)
	if t, ok := rv.tools[r.Tool]; ok {
		for _, m := range t.missing(id, r.ToolScopes) {
			if !slices.Contains(out, m) {
				out = append(out, m)
			}
		}
	}
	return out
}
