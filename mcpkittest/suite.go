package mcpkittest

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/flags"
	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// Factory builds the server under test. The suite calls it several times,
// each time with options of its own (an observing gate, an injected panic)
// that the factory must pass to mcpkit.NewServer after its own. Build the
// server as production does (same tools, policies, gates, audit), but so
// that every tool is callable by an identity holding all its scopes: flags
// on, approval answered by the suite.
type Factory func(opts ...mcpkit.Option) (*mcpkit.Server, error)

// Config tunes Run.
type Config struct {
	// Identities whose tools/list must match exactly what they may call.
	// The default is derived from the policies: no scopes, each scope
	// alone, and every scope.
	Identities []mcpkit.Identity
	// Skip maps a check's name to the reason it does not apply; the
	// report prints the reason.
	Skip map[string]string
	// SurfaceFile is the golden JSON of the tool surface (names, schemas,
	// annotations, policy), for example "testdata/surface.json". Empty
	// skips the check.
	SurfaceFile string
	// PolicyFile is the golden POLICY.md. Empty skips the check.
	PolicyFile string
	// PolicyNotes are sentences (Markdown) appended to POLICY.md under
	// "Also": rules the tool policies do not hold, such as who may
	// approve in the approval console.
	PolicyNotes []string
	// Update rewrites the golden files instead of comparing; wire it to a
	// -update flag in your test. It writes additive surface changes only:
	// see Accept.
	Update bool
	// Accept acknowledges, for an Update, the categories of surface
	// change beyond additive: "breaking", "security-review" (or
	// "security"), comma-separated. Empty means the MCPKIT_ACCEPT
	// environment variable. Wire it to an -accept flag, so that the
	// acknowledgement is visible in the command or the CI configuration.
	// An update with an unacknowledged change fails and writes nothing;
	// Accept without Update is an error.
	Accept string
	// ChangeLog is the JSON file where each accepted surface change is
	// recorded (date, categories, changes); POLICY.md's "Changes since
	// the last reviewed version" section is its latest entry. Default:
	// SurfaceFile with .json replaced by .changes.json.
	ChangeLog string
	// MaxDescription bounds tool descriptions in bytes (default 1024).
	MaxDescription int
	// ValidArgs are arguments that pass validation, per tool name, for the
	// checks that need a call to get past validation (approval, audit).
	// Tools without an entry get arguments generated from their schema
	// (examples, defaults, enums, bounds) where that is possible.
	ValidArgs map[string]map[string]any
	// Audit installs the server's audit middleware writing to sink, so the
	// suite can capture the records (and check the server's own redaction
	// settings). Default: audit.Middleware(sink) in mcpkit.WithMiddleware.
	Audit func(sink audit.Sink) mcpkit.Option
	// Flags installs the server's flag gate on an OpenFeature client the
	// suite controls. Default: flags.NewGate(client) in mcpkit.WithGates.
	Flags func(client flags.Client) mcpkit.Option
	// Approval installs the server's approval gate around an approver the
	// suite controls. Default:
	// approval.New(a) in mcpkit.WithInnerMiddleware.
	Approval func(a approval.Approver) mcpkit.Option
	// ExtraVerbs are verbs tool names may start with beyond
	// mcpkit.DefaultVerbs, as configured with mcpkit.WithExtraVerbs.
	ExtraVerbs []string
}

// check is one named conformance check.
type check struct {
	name string
	run  func(t testing.TB, e *env)
}

// runner runs named checks; *testing.T does it with subtests, the suite's
// own tests with a fake that records failures.
type runner interface {
	Run(name string, f func(testing.TB)) bool
}

type tRunner struct{ t *testing.T }

func (r tRunner) Run(name string, f func(testing.TB)) bool {
	return r.t.Run(name, func(t *testing.T) { f(t) })
}

// Run is the conformance suite: every check as a named subtest, so that a CI
// failure reads as a sentence ("surface/destructive tools require
// approval"). Call it from one test in your module:
//
//	func TestConformance(t *testing.T) {
//		mcpkittest.Run(t, newServer, mcpkittest.Config{PolicyFile: "POLICY.md"})
//	}
func Run(t *testing.T, f Factory, opts Config) {
	t.Helper()
	run(tRunner{t}, t, f, opts)
}

func run(r runner, tb testing.TB, f Factory, opts Config) {
	if opts.MaxDescription == 0 {
		opts.MaxDescription = 1024
	}
	e := &env{factory: f, opts: opts}
	var skipped []string
	for _, c := range checks() {
		if reason, ok := opts.Skip[c.name]; ok {
			skipped = append(skipped, fmt.Sprintf("%s: %s", c.name, reason))
			r.Run(c.name, func(t testing.TB) { t.Skipf("skipped: %s", reason) })
			continue
		}
		r.Run(c.name, func(t testing.TB) { c.run(t, e) })
	}
	for name := range opts.Skip {
		if !slices.ContainsFunc(checks(), func(c check) bool { return c.name == name }) {
			tb.Errorf("mcpkittest: Config.Skip names %q, which is not a check; the checks are:\n%s", name, strings.Join(CheckNames(), "\n"))
		}
	}
	if len(skipped) > 0 {
		tb.Logf("mcpkittest: %d check(s) skipped:\n  %s", len(skipped), strings.Join(skipped, "\n  "))
	}
}

// CheckNames lists every check Run performs, for Config.Skip.
func CheckNames() []string {
	var names []string
	for _, c := range checks() {
		names = append(names, c.name)
	}
	return names
}

func checks() []check {
	return []check{
		{"surface/tool names are lower snake_case, verb first and unique", checkNames},
		{"surface/descriptions are one bounded paragraph", checkDescriptions},
		{"surface/input schemas are objects with every property described", checkInputSchemas},
		{"surface/structured output has an output schema", checkOutputSchemas},
		{"surface/annotations match the policy", checkAnnotations},
		{"surface/destructive tools require approval", checkDestructiveApproval},
		{"surface/every tool declares scopes or is public", checkScopesDeclared},
		{"behaviour/wrong types are refused naming the field", checkWrongTypes},
		{"behaviour/missing required fields are refused naming the field", checkMissingRequired},
		{"behaviour/unknown fields are refused naming the field", checkUnknownFields},
		{"behaviour/an unknown tool is a protocol error", checkUnknownTool},
		{"behaviour/a panic in the chain is contained", checkPanicContained},
		{"consistency/tools/list shows exactly what each identity may call", checkConsistency},
		{"consistency/resources and prompts listed are exactly what each identity may read or get", checkEntryConsistency},
		{"scopes/a caller without a tool's scopes can neither list nor call it", checkScopesEnforced},
		{"scopes/a caller without a resource's or prompt's scopes can neither list nor read or get it", checkEntryScopesEnforced},
		{"audit/exactly one record per call, with the principal, and no planted secret", checkAuditRecords},
		{"audit/exactly one record per resource read and prompt get, refusals and unknown targets too, and no planted secret", checkEntryAudit},
		{"flags/a tool whose flag is off is hidden and refused, and back when on", checkFlags},
		{"flags/a resource or prompt whose flag is off is hidden and refused, and back when on", checkEntryFlags},
		{"approval/with a denying approver, tools that need approval never reach the handler", checkApproval},
		{"golden/tool surface matches the reviewed file", checkSurfaceGolden},
		{"golden/POLICY.md matches the policies", checkPolicyGolden},
	}
}

// env is shared by the checks of one Run.
type env struct {
	factory Factory
	opts    Config

	once sync.Once
	base *mcpkit.Server
	berr error
}

// server returns the server built with no suite options, built once.
func (e *env) server(t testing.TB) *mcpkit.Server {
	t.Helper()
	e.once.Do(func() { e.base, e.berr = e.factory() })
	if e.berr != nil {
		t.Fatalf("the factory failed: %v", e.berr)
	}
	return e.base
}

// build returns a fresh server with the suite's options.
func (e *env) build(t testing.TB, opts ...mcpkit.Option) *mcpkit.Server {
	t.Helper()
	s, err := e.factory(opts...)
	if err != nil {
		t.Fatalf("the factory failed: %v", err)
	}
	return s
}

// allScopes is every scope any policy names, sorted.
func allScopes(tools []*mcpkit.ToolInfo) []string {
	var out []string
	for _, t := range tools {
		for _, s := range t.Policy.Scopes {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	sort.Strings(out)
	return out
}

// superuser holds every scope the policies name.
func superuser(tools []*mcpkit.ToolInfo) mcpkit.Identity {
	return mcpkit.Identity{Subject: "mcpkittest-all-scopes", Scopes: allScopes(tools), AuthMethod: "test", Transport: "memory"}
}

// identities returns the identities for the consistency check.
func (e *env) identities(tools []*mcpkit.ToolInfo) []mcpkit.Identity {
	if len(e.opts.Identities) > 0 {
		return e.opts.Identities
	}
	ids := []mcpkit.Identity{{Subject: "mcpkittest-no-scopes", AuthMethod: "test", Transport: "memory"}}
	for _, s := range allScopes(tools) {
		ids = append(ids, mcpkit.Identity{Subject: "mcpkittest-only-" + s, Scopes: []string{s}, AuthMethod: "test", Transport: "memory"})
	}
	return append(ids, superuser(tools))
}
