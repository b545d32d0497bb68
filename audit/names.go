package audit

import "github.com/mcpkit-go/mcpkit/mcpkit"

// toolName is the record's tool: a registered tool's name as is; a name the
// server does not know is the client's string, redacted like an argument
// (a caller may send anything there, a token included).
func (a *Auditor) toolName(c *mcpkit.Call) string {
	if !isTool(c) {
		return ""
	}
	if c.Tool.Unknown {
		return a.cfg.redactor.String(c.Tool.Name)
	}
	return c.Tool.Name
}

// operationOf is the record's operation: the call's, or tools/call for a
// Call built without one.
func operationOf(c *mcpkit.Call) string {
	if c.Operation == "" {
		return string(mcpkit.OpCallTool)
	}
	return string(c.Operation)
}

// isTool reports whether c is a tools/call.
func isTool(c *mcpkit.Call) bool { return operationOf(c) == string(mcpkit.OpCallTool) }

// target is the record's target: a registered tool's or prompt's name as
// is; a resource URI (read, subscribed to, completed), or a name the
// server does not know, redacted like an argument (a URI may carry a
// credential, a caller may send anything).
func (a *Auditor) target(c *mcpkit.Call) string {
	t := c.Target
	if t == "" {
		t = c.Tool.Name
	}
	resource := c.Tool.Kind == mcpkit.KindResource || c.Tool.Kind == mcpkit.KindResourceTemplate
	if c.Tool.Unknown || c.Operation == mcpkit.OpReadResource || resource {
		return a.cfg.redactor.String(t)
	}
	return t
}

// methodName is mcp.method.name for a refused request: the method if it is
// a known one, else _OTHER.
func methodName(m string) string {
	if knownMethods[m] {
		return m
	}
	return errorTypeOther
}

// knownMethods are the methods a refused request may be named by: the MCP
// methods of the semantic conventions and of go-sdk v1.8.0. A refused
// request's method comes from the client, so any other value is recorded
// as _OTHER rather than minting a span name or a metric series.
var knownMethods = map[string]bool{
	"completion/complete": true, "elicitation/create": true, "initialize": true, "logging/setLevel": true,
	"notifications/cancelled": true, "notifications/initialized": true, "notifications/message": true,
	"notifications/progress": true, "notifications/prompts/list_changed": true,
	"notifications/resources/list_changed": true, "notifications/resources/updated": true,
	"notifications/roots/list_changed": true, "notifications/tools/list_changed": true, "ping": true,
	"prompts/get": true, "prompts/list": true, "resources/list": true, "resources/read": true,
	"resources/subscribe": true, "resources/templates/list": true, "resources/unsubscribe": true,
	"roots/list": true, "sampling/createMessage": true, "tools/call": true, "tools/list": true,
	"server/discover": true, "subscriptions/listen": true,
}
