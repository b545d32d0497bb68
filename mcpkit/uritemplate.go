package mcpkit

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// uriTemplate is a resource URI template of the one form mcpkit accepts:
// literal text and simple {name} expressions (RFC 6570 level 1), each
// standing for one path segment. The richer operators ({+path}, {?query},
// {/seg*}) let a value carry slashes or whole queries, which is what a
// traversal needs; a template that wants them is refused at registration.
type uriTemplate struct {
	raw  string
	vars []string
	re   *regexp.Regexp
}

var templateVarPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// parseURITemplate checks t and compiles its matcher.
func parseURITemplate(t string) (*uriTemplate, error) {
	if t == "" {
		return nil, errors.New("URITemplate is required")
	}
	var re strings.Builder
	re.WriteString("^")
	var vars []string
	rest := t
	for rest != "" {
		open := strings.IndexByte(rest, '{')
		if closeAt := strings.IndexByte(rest, '}'); closeAt >= 0 && (open < 0 || closeAt < open) {
			return nil, fmt.Errorf("URI template %q: unmatched '}'", t)
		}
		if open < 0 {
			re.WriteString(regexp.QuoteMeta(rest))
			break
		}
		re.WriteString(regexp.QuoteMeta(rest[:open]))
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return nil, fmt.Errorf("URI template %q: unmatched '{'", t)
		}
		name := rest[open+1 : open+end]
		if !templateVarPattern.MatchString(name) {
			return nil, fmt.Errorf("URI template %q: {%s}: only simple expressions {name} with a lower-case name (a-z, 0-9, _) are supported", t, name)
		}
		for _, v := range vars {
			if v == name {
				return nil, fmt.Errorf("URI template %q: variable %s appears twice", t, name)
			}
		}
		if len(vars) > 0 && open == 0 {
			return nil, fmt.Errorf("URI template %q: {%s} follows another variable with no literal between them, so the split is ambiguous", t, name)
		}
		vars = append(vars, name)
		re.WriteString(`([^/?#{}]+)`)
		rest = rest[open+end+1:]
	}
	re.WriteString("$")
	if len(vars) == 0 {
		return nil, fmt.Errorf("URI template %q has no {variable}; register a fixed URI with AddResource", t)
	}
	u, err := url.Parse(strings.NewReplacer("{", "", "}", "").Replace(t))
	if err != nil || u.Scheme == "" {
		return nil, fmt.Errorf("URI template %q must be an absolute URI (scheme://...)", t)
	}
	return &uriTemplate{raw: t, vars: vars, re: regexp.MustCompile(re.String())}, nil
}

// match returns the template's variables in uri, percent-decoded, or false
// when uri does not have the template's shape. A value that decodes to
// something no single segment should hold (a slash, a backslash, "." or
// "..", a control character, invalid UTF-8) is an error: the handler never
// sees it, whatever the input schema says.
func (t *uriTemplate) match(uri string) (map[string]string, bool, error) {
	m := t.re.FindStringSubmatch(uri)
	if m == nil {
		return nil, false, nil
	}
	vals := make(map[string]string, len(t.vars))
	for i, name := range t.vars {
		v, err := url.PathUnescape(m[i+1])
		if err != nil {
			return nil, true, fmt.Errorf("{%s}: malformed percent-encoding", name)
		}
		if err := checkSegment(v); err != nil {
			return nil, true, fmt.Errorf("{%s}: %w", name, err)
		}
		vals[name] = v
	}
	return vals, true, nil
}

func checkSegment(v string) error {
	switch {
	case v == "." || v == "..":
		return errors.New(`must not be "." or ".."`)
	case !utf8.ValidString(v):
		return errors.New("must be valid UTF-8")
	case strings.ContainsAny(v, `/\`):
		return errors.New("must not contain a slash or a backslash")
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return errors.New("must not contain control characters")
		}
	}
	return nil
}
