package mcpkit

// Operation is the MCP method a Call serves. Gates see it so that a gate
// with something to say about one kind of request only (a rate limit on
// calls, not on lists) can tell them apart; the audit record carries it.
type Operation string

// Operations mcpkit gates and audits.
const (
	OpCallTool              Operation = "tools/call"
	OpReadResource          Operation = "resources/read"
	OpGetPrompt             Operation = "prompts/get"
	OpListTools             Operation = "tools/list"
	OpListResources         Operation = "resources/list"
	OpListResourceTemplates Operation = "resources/templates/list"
	OpListPrompts           Operation = "prompts/list"
)

// IsList reports whether o is a list request: gates are asked once per
// entry to decide what the caller sees, and nothing runs.
func (o Operation) IsList() bool {
	switch o {
	case OpListTools, OpListResources, OpListResourceTemplates, OpListPrompts:
		return true
	}
	return false
}

// Kind is what a registered entry is: a tool, a resource, a resource
// template or a prompt. All four carry a Policy and meet the same gates.
type Kind string

// Kinds. The zero value means KindTool, so that a ToolInfo built by hand
// before kinds existed still reads as a tool.
const (
	KindTool             Kind = "tool"
	KindResource         Kind = "resource"
	KindResourceTemplate Kind = "resource_template"
	KindPrompt           Kind = "prompt"
)

// Noun is the word messages use for an entry of this kind: "tool",
// "resource" (for templates too) or "prompt".
func (k Kind) Noun() string {
	switch k {
	case KindResource, KindResourceTemplate:
		return "resource"
	case KindPrompt:
		return "prompt"
	}
	return "tool"
}

// Label names an entry in messages meant for the caller: "tool
// create_incident", "resource incident", "prompt postmortem".
func (t *ToolInfo) Label() string { return t.Kind.Noun() + " " + t.Name }

// Listing reports whether the call is a list request's question about one
// entry rather than a call, a read or a get. A Call built by hand without
// an Operation is a list question when it has no request, as it was before
// operations existed.
func (c *Call) Listing() bool {
	if c.Operation == "" {
		return c.Request == nil && c.ResourceRequest == nil && c.PromptRequest == nil
	}
	return c.Operation.IsList()
}
