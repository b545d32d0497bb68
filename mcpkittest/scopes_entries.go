package mcpkittest

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// checkEntryScopesEnforced is checkScopesEnforced for resources, templates
// and prompts: for every scope an entry declares, a caller holding every
// scope the server names but that one must not find the entry in its list,
// and its read or get, a completion of its arguments and a subscription to
// its URI must be refused before they get past the gates. A declared scope
// nothing enforces fails here, whatever POLICY.md says.
func checkEntryScopesEnforced(t testing.TB, e *env) {
	base := e.server(t)
	all := superuser(allEntries(base))
	checked := 0
	for _, info := range readables(base) {
		for _, scope := range info.Policy.Scopes {
			checked++
			id := all
			id.Subject = "mcpkittest-without-" + scope
			id.Scopes = slices.DeleteFunc(slices.Clone(all.Scopes), func(s string) bool { return s == scope })
			o := newObserver()
			srv := e.build(t, o.options(true)...)
			h := NewHarness(t, srv, WithIdentity(id))
			if listedEntries(h, srv)[listKey(info)] {
				t.Errorf("%s requires scope %s, but %s shows it to a caller without it (scopes %s): declared scopes are not enforced",
					info.Label(), scope, listMethod(info), strings.Join(id.Scopes, " "))
			}
			what, err, ok := e.validAccess(t, h, info)
			if !ok {
				continue
			}
			if o.passedCount(observedKey(info)) > 0 || err == nil {
				got, _ := o.last()
				t.Errorf("%s requires scope %s, but %s from a caller without it got past every gate (outcome %s): declared scopes are not enforced",
					what, scope, accessMethod(info), got.outcome)
			}
			e.checkDecidedAsAccess(t, srv, o, id, info, scope)
		}
	}
	if checked == 0 {
		t.Skip("no resource or prompt declares scopes")
	}
}

// checkDecidedAsAccess checks the requests decided as a read or get of
// info, from the caller without scope: a completion of its first argument
// (prompts and templates), and a resources/subscribe of its URI (on
// protocol 2025-11-25, where the method exists), when the server offers
// them (without, the SDK answers method not found). Each must be refused
// at the gates.
func (e *env) checkDecidedAsAccess(t testing.TB, srv *mcpkit.Server, o *observer, id mcpkit.Identity, info *mcpkit.ToolInfo, scope string) {
	ctx := context.Background()
	h := NewHarness(t, srv, WithIdentity(id), WithProtocolVersion("2025-11-25"))
	before := o.passedCount(observedKey(info))
	caps := h.Session.InitializeResult().Capabilities
	if props := schemaProperties(info); len(props) > 0 && caps.Completions != nil {
		ref := &mcp.CompleteReference{Type: "ref/prompt", Name: info.Name}
		if info.Kind != mcpkit.KindPrompt {
			ref = &mcp.CompleteReference{Type: "ref/resource", URI: info.URI}
		}
		_, err := h.Session.Complete(ctx, &mcp.CompleteParams{Ref: ref, Argument: mcp.CompleteParamsArgument{Name: props[0], Value: ""}})
		if err == nil || o.passedCount(observedKey(info)) > before {
			t.Errorf("%s requires scope %s, but completion/complete of its argument %s from a caller without it got past every gate: completions leak what the caller may not see",
				info.Label(), scope, props[0])
		}
	}
	if info.Kind == mcpkit.KindPrompt || caps.Resources == nil || !caps.Resources.Subscribe {
		return
	}
	uri := info.URI
	if info.Kind == mcpkit.KindResourceTemplate {
		vars, ok := e.entryArgs(info)
		if !ok {
			return // validAccess reported it
		}
		var err error
		if uri, err = expand(info.URI, vars); err != nil {
			return
		}
	}
	err := h.Session.Subscribe(ctx, &mcp.SubscribeParams{URI: uri})
	if err == nil || o.passedCount(observedKey(info)) > before {
		t.Errorf("%s requires scope %s, but resources/subscribe of %s from a caller without it got past every gate: a subscriber learns of updates it may not read",
			info.Label(), scope, uri)
	}
}

// schemaProperties returns the names of info's input properties, sorted.
func schemaProperties(info *mcpkit.ToolInfo) []string {
	var s struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	_ = json.Unmarshal(info.InputSchema, &s)
	out := make([]string, 0, len(s.Properties))
	for k := range s.Properties {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
