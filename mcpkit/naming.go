package mcpkit

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// DefaultVerbs are the first words a tool name may start with. A verb-first
// name tells the model, and the reviewer, what the tool does.
var defaultVerbs = []string{
	"acknowledge", "add", "approve", "archive", "assign", "cancel", "check",
	"close", "count", "create", "delete", "deny", "describe", "diff", "disable",
	"enable", "execute", "explain", "export", "fetch", "find", "get", "import",
	"invoke", "list", "lookup", "merge", "move", "open", "patch", "ping",
	"post", "publish", "purge", "query", "read", "reboot", "reject", "remove",
	"rename", "reopen", "replace", "resolve", "restart", "restore", "retry",
	"revoke", "rollback", "run", "scale", "search", "send", "set", "start",
	"stop", "summarize", "sync", "tag", "test", "trigger", "unassign",
	"update", "upload", "upsert", "validate", "write",
}

// DefaultVerbs returns a copy of the verbs tool names may start with by
// default.
func DefaultVerbs() []string { return slices.Clone(defaultVerbs) }

var toolNamePattern = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// maxToolNameLen follows the MCP guidance for tool names.
const maxToolNameLen = 64

// maxDescriptionLen bounds a description: it is spent from the model's
// context on every tools/list.
const maxDescriptionLen = 1024

// checkName reports why name is not an acceptable tool name.
func checkName(name string, verbs []string) error {
	if len(name) > maxToolNameLen {
		return fmt.Errorf("tool name %q is longer than %d characters", name, maxToolNameLen)
	}
	if !toolNamePattern.MatchString(name) {
		return fmt.Errorf("tool name %q must be lower snake_case (a-z, 0-9, single underscores)", name)
	}
	verb, _, _ := strings.Cut(name, "_")
	if !slices.Contains(verbs, verb) {
		return fmt.Errorf("tool name %q must start with a verb (%s, ...); add %q with WithVerbs if it is one",
			name, strings.Join(verbs[:min(len(verbs), 6)], ", "), verb)
	}
	return nil
}

// checkDescription reports why a tool description is not acceptable.
func checkDescription(name, d string) error { return checkEntryDescription(KindTool, name, d) }

// checkEntryDescription reports why the description of an entry of kind k
// is not acceptable.
func checkEntryDescription(k Kind, name, d string) error {
	noun, verb := k.Noun(), "call"
	switch k {
	case KindResource, KindResourceTemplate:
		verb = "read"
	case KindPrompt:
		verb = "use"
	}
	d = strings.TrimSpace(d)
	switch {
	case d == "":
		return fmt.Errorf("%s %q: a description is required: it is what the model reads to decide when to %s the %s", noun, name, verb, noun)
	case len(d) > maxDescriptionLen:
		return fmt.Errorf("%s %q: description is %d bytes, more than %d", noun, name, len(d), maxDescriptionLen)
	case strings.Contains(d, "\n\n"):
		return fmt.Errorf("%s %q: description must be one paragraph", noun, name)
	}
	return nil
}

// checkEntryName reports why name is not acceptable for a resource or a
// prompt: lower snake_case like a tool's, without the verb (a resource is
// a thing, a prompt a task).
func checkEntryName(k Kind, name string) error {
	noun := k.Noun()
	if len(name) > maxToolNameLen {
		return fmt.Errorf("%s name %q is longer than %d characters", noun, name, maxToolNameLen)
	}
	if !toolNamePattern.MatchString(name) {
		return fmt.Errorf("%s name %q must be lower snake_case (a-z, 0-9, single underscores)", noun, name)
	}
	return nil
}
