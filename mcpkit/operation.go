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
	// OpSubscribeResource and OpUnsubscribeResource are a resources/subscribe
	// and resources/unsubscribe (protocol versions before 2026-07-28), and
	// OpListen one resource URI of a 2026-07-28 subscriptions/listen: each
	// is decided as a resources/read of the URI, and nothing is read.
	OpSubscribeResource   Operation = "resources/subscribe"
	OpUnsubscribeResource Operation = "resources/unsubscribe"
	OpListen              Operation = "subscriptions/listen"
	// OpComplete is a completion/complete naming a prompt (decided as its
	// prompts/get) or a resource template (decided as a resources/read).
	OpComplete Operation = "completion/complete"
	// OpResourceUpdated asks the gates, when a
	// notifications/resources/updated is about to reach a subscriber,
	// whether the subscriber may still read the URI: a question about
	// visibility, like a list's (Call.Listing is true), nothing runs.
	OpResourceUpdated Operation = "notifications/resources/updated"
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

// Listing reports whether the call is a question about whether the caller
// may see one entry (a list request's, or whether a resource update may
// reach a subscriber: OpResourceUpdated) rather than a call, a read, a get
// or a request decided as one. Gates that count (rate limits) skip it. A
// Call built by hand without an Operation is a list question when it has
// no request, as it was before operations existed.
func (c *Call) Listing() bool {
	if c.Operation == "" {
		return c.Request == nil && c.ResourceRequest == nil && c.PromptRequest == nil
	}
	return c.Operation.IsList() || c.Operation == OpResourceUpdated
}
