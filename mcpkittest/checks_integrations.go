package mcpkittest

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/flags"
	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// canaries are credential-shaped values planted in string arguments; none
// may reach an audit record.
func canaries() []string {
	return []string{
		"ghp_" + "MCPKITTESTcanary0123456789abcdefghij",
		"AKIA" + "MCPKITTEST000001",
		"eyJhbGciOiJIUzI1NiJ9." + "eyJzdWIiOiJtY3BraXR0ZXN0In0." + "bWNwa2l0dGVzdC1jYW5hcnk",
		"xoxb-" + "mcpkittest-canary-0001",
		"postgres://app:" + "mcpkittest-canary-pw" + "@db.internal/app",
	}
}

// plannedCall is one call the audit check makes and what its record must
// say.
type plannedCall struct {
	h    *Harness
	as   mcpkit.Identity
	tool string
	args map[string]any
}

// checkAuditRecords makes calls ending in every outcome the suite can
// provoke without running a handler (invalid input, scope denial, panic,
// unknown tool, ok at the handler stage) and requires exactly one final
// audit record per call, in order, naming the tool and the principal, and
// no planted canary in any record's bytes.
func checkAuditRecords(t testing.TB, e *env) {
	capt := &capture{}
	o := newObserver()
	opts := append(o.options(false), e.auditOption(t, capt), mcpkit.WithMiddleware(panicOnMarker))
	srv := e.build(t, opts...)
	tools := srv.Tools()
	if len(tools) == 0 {
		t.Skip("the server has no tools")
	}
	all := superuser(tools)
	none := mcpkit.Identity{Subject: "mcpkittest-no-scopes", AuthMethod: "test", Transport: "memory"}
	hAll := NewHarness(t, srv, WithIdentity(all))
	hNone := NewHarness(t, srv, WithIdentity(none))
	cans := canaries()
	var plan []plannedCall
	for i, info := range tools {
		var s jsonschema.Schema
		_ = json.Unmarshal(info.InputSchema, &s)
		planted := map[string]any{}
		for j, name := range sortedProps(&s) {
			if p := s.Properties[name]; p.Type == "string" {
				planted[name] = cans[(i+j)%len(cans)]
			}
		}
		if len(planted) == 0 {
			planted["mcpkittest_note"] = cans[i%len(cans)]
		}
		plan = append(plan,
			plannedCall{hAll, all, info.Name, map[string]any{}},
			plannedCall{hAll, all, info.Name, planted},
			plannedCall{hAll, all, info.Name, map[string]any{"mcpkittest_panic": cans[i%len(cans)]}},
		)
		if args, ok := e.validArgs(info); ok {
			plan = append(plan, plannedCall{hAll, all, info.Name, args})
		}
		if len(info.Policy.Scopes) > 0 {
			plan = append(plan, plannedCall{hNone, none, info.Name, planted})
		}
	}
	plan = append(plan, plannedCall{hAll, all, "get_mcpkittest_no_such_tool", map[string]any{"token": cans[0]}})

	for _, c := range plan {
		_, _ = c.h.Call(c.tool, c.args) // outcomes are judged from the records
	}
	records := capt.final()
	if len(records) != len(plan) {
		t.Errorf("%d calls produced %d final audit records; want exactly one per call", len(plan), len(records))
	}
	seen := map[string]bool{}
	for i := range min(len(records), len(plan)) {
		r, c := records[i], plan[i]
		if r.Tool != c.tool {
			t.Errorf("record %d is for tool %q; the call was to %q (a record is missing or out of order)", i, r.Tool, c.tool)
			break
		}
		if r.Principal.Subject != c.as.Subject {
			t.Errorf("record %d (%s, %s) names principal %q; the caller was %q", i, r.Tool, r.Outcome, r.Principal.Subject, c.as.Subject)
		}
		if r.Outcome == "" || r.ID == "" || r.Time.IsZero() {
			t.Errorf("record %d (%s) lacks an id, a time or an outcome: %+v", i, r.Tool, r)
		}
		seen[r.Outcome] = true
	}
	for _, want := range []mcpkit.Outcome{mcpkit.OutcomeInvalidInput, mcpkit.OutcomePanic, mcpkit.OutcomeUnknownTool} {
		if !seen[string(want)] {
			t.Errorf("no call was recorded with outcome %s", want)
		}
	}
	capt.mu.Lock()
	defer capt.mu.Unlock()
	for i, raw := range capt.raw {
		for _, c := range cans {
			if bytes.Contains(raw, []byte(c)) {
				t.Errorf("audit record %d contains the planted secret %q: %s", i, c, raw)
			}
		}
	}
}

// panicOnMarker panics for calls whose arguments carry mcpkittest_panic.
func panicOnMarker(next mcpkit.Handler) mcpkit.Handler {
	return func(ctx context.Context, c *mcpkit.Call) (*mcp.CallToolResult, error) {
		if bytes.Contains(c.Arguments, []byte(`"mcpkittest_panic"`)) {
			panic("mcpkittest: injected panic")
		}
		return next(ctx, c)
	}
}

// checkFlags turns each tool's flag off with an in-memory OpenFeature
// provider and requires the tool hidden and refused (denied_flag), then on
// again and requires it listed and callable.
func checkFlags(t testing.TB, e *env) {
	ctx := context.Background()
	tools := e.server(t).Tools()
	all := superuser(tools)
	for _, info := range tools {
		for _, on := range []bool{false, true} {
			off := flags.FlagKey(info)
			if on {
				off = ""
			}
			client, closeAPI, err := flagClient(ctx, tools, off)
			if err != nil {
				t.Fatalf("in-memory flag provider: %v", err)
			}
			o := newObserver()
			srv := e.build(t, append([]mcpkit.Option{e.flagsOption(t, client)}, o.options(true)...)...)
			h := NewHarness(t, srv, WithIdentity(all))
			listed := slices.Contains(h.Names(), info.Name)
			res, err := h.Call(info.Name, map[string]any{})
			closeAPI()
			got, _ := o.last()
			switch {
			case err != nil:
				t.Errorf("%s with its flag on=%v: protocol error %v", info.Name, on, err)
			case !on && listed:
				t.Errorf("%s is listed while its flag %s is off", info.Name, flags.FlagKey(info))
			case !on && (!res.IsError || got.outcome != mcpkit.OutcomeDeniedFlag || o.passedCount(info.Name) > 0):
				t.Errorf("%s was not refused while its flag is off: isError=%v outcome=%s", info.Name, res.IsError, got.outcome)
			case on && !listed:
				t.Errorf("%s is hidden while its flag %s is on", info.Name, flags.FlagKey(info))
			case on && o.passedCount(info.Name) == 0:
				t.Errorf("%s is refused while its flag is on: %s %q", info.Name, got.outcome, Text(res))
			}
		}
	}
}

// checkApproval installs a denying approver and requires every tool that
// always needs approval to be refused (denied_approval) without the call
// reaching the handler stage.
func checkApproval(t testing.TB, e *env) {
	o := newObserver()
	// The server's approval gate goes first so that the observer's handler
	// stage sits behind it.
	srv := e.build(t, append([]mcpkit.Option{e.approvalOption(t, approval.AlwaysDeny("mcpkittest: denied"))}, o.options(false)...)...)
	h := NewHarness(t, srv, WithIdentity(superuser(srv.Tools())))
	checked := 0
	for _, info := range srv.Tools() {
		if !info.Policy.Approval.Always() {
			continue
		}
		args, ok := e.validArgs(info)
		if !ok {
			t.Errorf("%s requires approval, but the suite cannot build valid arguments for it: add them to Config.ValidArgs[%q]", info.Name, info.Name)
			continue
		}
		checked++
		res, err := h.Call(info.Name, args)
		got, _ := o.last()
		if err != nil || !res.IsError || got.outcome != mcpkit.OutcomeDeniedApproval {
			t.Errorf("%s with a denying approver: err=%v isError=%v outcome=%s %q; want denied_approval", info.Name, err, res != nil && res.IsError, got.outcome, Text(res))
		}
		if n := o.reachedCount(info.Name); n > 0 {
			t.Errorf("%s reached its handler although the approver denied it", info.Name)
		}
	}
	if checked == 0 && !t.Failed() {
		t.Skip("no tool always requires approval")
	}
}

// validArgs returns arguments for info that pass validation: the ones in
// Config.ValidArgs, else ones generated from the schema (examples,
// defaults, enums, bounds).
func (e *env) validArgs(info *mcpkit.ToolInfo) (map[string]any, bool) {
	if a, ok := e.opts.ValidArgs[info.Name]; ok {
		return a, true
	}
	var s jsonschema.Schema
	if err := json.Unmarshal(info.InputSchema, &s); err != nil {
		return nil, false
	}
	v, ok := generate(&s)
	if !ok {
		return nil, false
	}
	m, ok := v.(map[string]any)
	return m, ok
}

// generate builds a value satisfying s, for the simple schemas Go types
// produce; it gives up (false) on patterns without examples and on
// combinators.
func generate(s *jsonschema.Schema) (any, bool) {
	if len(s.Examples) > 0 {
		return s.Examples[0], true
	}
	if s.Default != nil {
		var v any
		if json.Unmarshal(s.Default, &v) == nil {
			return v, true
		}
	}
	if len(s.Enum) > 0 {
		return s.Enum[0], true
	}
	if s.Const != nil {
		return *s.Const, true
	}
	switch s.Type {
	case "string":
		if s.Pattern != "" || s.Format != "" {
			return nil, false
		}
		n := 1
		if s.MinLength != nil {
			n = max(n, *s.MinLength)
		}
		return strings.Repeat("a", n), true
	case "integer", "number":
		v := 1.0
		if s.Minimum != nil {
			v = *s.Minimum
		} else if s.ExclusiveMinimum != nil {
			v = *s.ExclusiveMinimum + 1
		}
		if s.Maximum != nil && v > *s.Maximum {
			return nil, false
		}
		return v, true
	case "boolean":
		return false, true
	case "array":
		if s.MinItems != nil && *s.MinItems > 0 {
			return nil, false
		}
		return []any{}, true
	case "object":
		out := map[string]any{}
		for _, name := range s.Required {
			p, ok := s.Properties[name]
			if !ok {
				return nil, false
			}
			v, ok := generate(p)
			if !ok {
				return nil, false
			}
			out[name] = v
		}
		return out, true
	}
	return nil, false
}
