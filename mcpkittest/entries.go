package mcpkittest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// allEntries is every tool, resource, resource template and prompt srv
// registered: what the identities' scopes are drawn from.
func allEntries(srv *mcpkit.Server) []*mcpkit.ToolInfo {
	return slices.Concat(srv.Tools(), srv.Resources(), srv.Prompts())
}

// readables are the resources, templates and prompts of srv.
func readables(srv *mcpkit.Server) []*mcpkit.ToolInfo {
	return slices.Concat(srv.Resources(), srv.Prompts())
}

// entryArgs returns valid values for a template's variables or a prompt's
// arguments, as the strings the protocol carries: Config.ValidArgs under
// the entry's label ("resource <name>", "prompt <name>"), else values
// generated from its schema.
func (e *env) entryArgs(info *mcpkit.ToolInfo) (map[string]string, bool) {
	args, ok := e.opts.ValidArgs[info.Label()]
	if !ok {
		gen := *info
		gen.Name = info.Label() // not a tool's ValidArgs entry
		if args, ok = e.validArgs(&gen); !ok {
			return nil, false
		}
	}
	out := map[string]string{}
	for k, v := range args {
		switch v := v.(type) {
		case string:
			out[k] = v
		case float64:
			out[k] = strconv.FormatFloat(v, 'f', -1, 64)
		case int:
			out[k] = strconv.Itoa(v)
		case bool:
			out[k] = strconv.FormatBool(v)
		default:
			return nil, false
		}
	}
	return out, true
}

var templateVariable = regexp.MustCompile(`\{([^{}]*)\}`)

// expand fills a URI template's variables with vars, each escaped as one
// path segment.
func expand(tmpl string, vars map[string]string) (string, error) {
	var missing error
	uri := templateVariable.ReplaceAllStringFunc(tmpl, func(m string) string {
		name := m[1 : len(m)-1]
		v, ok := vars[name]
		if !ok {
			missing = fmt.Errorf("no value for {%s}", name)
		}
		return url.PathEscape(v)
	})
	return uri, missing
}

// access reads a resource or template (with vars for a template) or gets a
// prompt (with vars as its arguments) through h, and describes what it
// asked for.
func access(h *Harness, info *mcpkit.ToolInfo, vars map[string]string) (what string, err error) {
	switch info.Kind {
	case mcpkit.KindResource:
		_, err = h.Read(info.URI)
		return fmt.Sprintf("%s (%s)", info.Label(), info.URI), err
	case mcpkit.KindResourceTemplate:
		uri, xerr := expand(info.URI, vars)
		if xerr != nil {
			return info.Label(), xerr
		}
		_, err = h.Read(uri)
		return fmt.Sprintf("resource template %s (%s, read as %s)", info.Name, info.URI, uri), err
	}
	_, err = h.GetPrompt(info.Name, vars)
	return info.Label(), err
}

// validAccess is access with valid variables or arguments; false (and a
// test error) when the suite cannot build them.
func (e *env) validAccess(t testing.TB, h *Harness, info *mcpkit.ToolInfo) (string, error, bool) {
	var vars map[string]string
	if info.Kind != mcpkit.KindResource {
		var ok bool
		if vars, ok = e.entryArgs(info); !ok {
			t.Errorf("%s: the suite cannot build valid arguments for it from its schema: add them to Config.ValidArgs[%q]", info.Label(), info.Label())
			return "", nil, false
		}
	}
	what, err := access(h, info, vars)
	return what, err, true
}

// refusalOutcome reads the audit outcome a refused resources/read or
// prompts/get names in its JSON-RPC error, with the error's code.
func refusalOutcome(err error) (code int64, outcome string, ok bool) {
	var we *jsonrpc.Error
	if !errors.As(err, &we) {
		return 0, "", false
	}
	var data struct {
		Outcome string `json:"outcome"`
	}
	_ = json.Unmarshal(we.Data, &data)
	return we.Code, data.Outcome, true
}

// listedEntries is the labels of the resources, templates and prompts the
// harness's identity sees in the three list requests.
func listedEntries(h *Harness, srv *mcpkit.Server) map[string]bool {
	out := map[string]bool{}
	res := srv.Resources()
	if len(res) > 0 {
		for _, r := range h.Resources() {
			for _, info := range res {
				if info.Kind == mcpkit.KindResource && info.URI == r.URI {
					out[info.Label()] = true
				}
			}
		}
		for _, r := range h.ResourceTemplates() {
			for _, info := range res {
				if info.Kind == mcpkit.KindResourceTemplate && info.URI == r.URITemplate {
					out[info.Label()+" template"] = true
				}
			}
		}
	}
	if len(srv.Prompts()) > 0 {
		for _, p := range h.Prompts() {
			out["prompt "+p.Name] = true
		}
	}
	return out
}

// listKey is an entry's key in listedEntries.
func listKey(info *mcpkit.ToolInfo) string {
	if info.Kind == mcpkit.KindResourceTemplate {
		return info.Label() + " template"
	}
	return info.Label()
}

// listMethod names the list request that shows info.
func listMethod(info *mcpkit.ToolInfo) mcpkit.Operation {
	switch info.Kind {
	case mcpkit.KindResource:
		return mcpkit.OpListResources
	case mcpkit.KindResourceTemplate:
		return mcpkit.OpListResourceTemplates
	}
	return mcpkit.OpListPrompts
}

// accessMethod names the request that reads or gets info.
func accessMethod(info *mcpkit.ToolInfo) mcpkit.Operation {
	if info.Kind == mcpkit.KindPrompt {
		return mcpkit.OpGetPrompt
	}
	return mcpkit.OpReadResource
}
