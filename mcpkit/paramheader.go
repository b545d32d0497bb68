package mcpkit

import (
	"fmt"
	"slices"
	"strings"

	invopop "github.com/invopop/jsonschema"
)

// ParamHeaderPrefix starts the name of every header that mirrors a tool
// argument (protocol 2026-07-28, "Custom Headers from Tool Parameters").
const ParamHeaderPrefix = "Mcp-Param-"

// ParamHeader is a top-level tool argument that HTTP clients of protocol
// 2026-07-28 mirror into a request header (Policy.Headers), so that load
// balancers and gateways can route on it without parsing the body. The
// tool's input schema carries it as the property's "x-mcp-header"
// annotation; the HTTP transport checks that the header and the body agree.
type ParamHeader struct {
	// Argument is the property name in the input schema.
	Argument string
	// Name is the annotation's value: the header is Mcp-Param-<Name>.
	Name string
	// Type is the argument's JSON Schema type: "string", "integer" or
	// "boolean", the only ones a header can carry.
	Type string
}

// Header is the full header name, Mcp-Param-<Name>.
func (p ParamHeader) Header() string { return ParamHeaderPrefix + p.Name }

// xMCPHeader is the input schema keyword that marks a property to mirror.
const xMCPHeader = "x-mcp-header"

// checkParamHeaders checks a policy's Headers against what may never
// travel as a header: a redacted argument (Policy.Redact or a field tagged
// `mcpkit:"redact"`: every proxy on the way sees headers, and none of them
// redacts), a nested argument (mcpkit mirrors top-level arguments only), a
// name that is not an HTTP token, or two names that differ only in case.
// It returns the marks sorted by argument; their types come from the
// schema (markParamHeaders).
func checkParamHeaders(headers map[string]string, redact []string) ([]ParamHeader, error) {
	if len(headers) == 0 {
		return nil, nil
	}
	marks := make([]ParamHeader, 0, len(headers))
	for arg, name := range headers {
		marks = append(marks, ParamHeader{Argument: arg, Name: name})
	}
	slices.SortFunc(marks, func(a, b ParamHeader) int { return strings.Compare(a.Argument, b.Argument) })
	seen := map[string]string{}
	for _, m := range marks {
		switch {
		case m.Argument == "" || strings.Contains(m.Argument, "."):
			return nil, fmt.Errorf("policy: Headers: %q is not a top-level argument name; only top-level arguments can travel as headers", m.Argument)
		case !isToken(m.Name):
			return nil, fmt.Errorf("policy: Headers: header name %q for argument %q must be an HTTP token (letters, digits and !#$%%&'*+-.^_`|~), non-empty", m.Name, m.Argument)
		}
		if other, dup := seen[strings.ToLower(m.Name)]; dup {
			return nil, fmt.Errorf("policy: Headers: arguments %q and %q both use header %s (header names ignore case)", other, m.Argument, ParamHeaderPrefix+m.Name)
		}
		seen[strings.ToLower(m.Name)] = m.Argument
		for _, r := range redact {
			if r == m.Argument || strings.HasPrefix(r, m.Argument+".") {
				return nil, fmt.Errorf("policy: Headers: argument %q is redacted in audit records (%q); a header is visible to every proxy on the way, so a secret must not travel as one", m.Argument, r)
			}
		}
	}
	return marks, nil
}

// markParamHeaders returns the schema edit that writes each mark into its
// property as "x-mcp-header", after checking that the property exists at
// the top level and is a string, an integer or a boolean (the protocol
// forbids "number", objects and arrays). It fills in each mark's Type.
func markParamHeaders(marks []ParamHeader) func(*invopop.Schema) error {
	return func(s *invopop.Schema) error {
		for i, m := range marks {
			var prop *invopop.Schema
			if s.Properties != nil {
				prop, _ = s.Properties.Get(m.Argument)
			}
			if prop == nil {
				return fmt.Errorf("policy: Headers: the input has no top-level argument %q", m.Argument)
			}
			switch prop.Type {
			case "string", "integer", "boolean":
			default:
				typ := prop.Type
				if typ == "" {
					typ = "of no single type"
				}
				return fmt.Errorf("policy: Headers: argument %q is %s; only string, integer and boolean arguments can travel as headers", m.Argument, typ)
			}
			marks[i].Type = prop.Type
			if prop.Extras == nil {
				prop.Extras = map[string]any{}
			}
			prop.Extras[xMCPHeader] = m.Name
		}
		return nil
	}
}

// isToken reports whether s is an RFC 9110 token (1*tchar), which keeps
// CR, LF, spaces and separators out of a header name.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
