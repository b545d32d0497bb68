package flags

import (
	"github.com/open-feature/go-sdk/openfeature"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// Evaluation context attribute names.
const (
	AttrEmail         = "email"
	AttrGroups        = "groups"
	AttrClientName    = "client_name"
	AttrClientVersion = "client_version"
	AttrTool          = "tool"
	AttrKind          = "kind"
	AttrRisk          = "risk"
	AttrTransport     = "transport"
)

// EvaluationContext is the OpenFeature context the gate evaluates a call
// with: the targeting key is the caller's subject; the attributes are the
// caller's email, groups (a JSON array), client name and version, the tool's
// name and risk (read_only, write, destructive), the kind of entry (tool,
// resource, resource_template, prompt; its name is under "tool" for every
// kind) and the transport.
func EvaluationContext(c *mcpkit.Call) openfeature.EvaluationContext {
	id := c.Identity
	groups := make([]any, len(id.Groups))
	for i, g := range id.Groups {
		groups[i] = g
	}
	attrs := map[string]any{
		AttrEmail:         id.Email,
		AttrGroups:        groups,
		AttrClientName:    id.ClientName,
		AttrClientVersion: id.ClientVersion,
		AttrTransport:     id.Transport,
	}
	if c.Tool != nil {
		attrs[AttrTool] = c.Tool.Name
		attrs[AttrRisk] = c.Tool.Policy.Risk.String()
		kind := c.Tool.Kind
		if kind == "" {
			kind = mcpkit.KindTool
		}
		attrs[AttrKind] = string(kind)
	}
	return openfeature.NewEvaluationContext(id.Subject, attrs)
}
