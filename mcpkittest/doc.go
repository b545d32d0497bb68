// Package mcpkittest is the conformance kit a team runs in its own CI: a
// harness that connects a real go-sdk client to an mcpkit server in memory,
// and Run, a suite of named checks in the style of testing/slogtest.
//
// Add one test to the server's module:
//
//	var (
//		update = flag.Bool("update", false, "rewrite golden files")
//		accept = flag.String("accept", "", "with -update: breaking, security-review")
//	)
//
//	func TestConformance(t *testing.T) {
//		mcpkittest.Run(t, func(opts ...mcpkit.Option) (*mcpkit.Server, error) {
//			return newServer(opts...)
//		}, mcpkittest.Config{
//			SurfaceFile: "testdata/surface.json",
//			PolicyFile:  "POLICY.md",
//			Update:      *update,
//			Accept:      *accept,
//		})
//	}
//
// The suite checks the tool surface (names, descriptions, schemas,
// annotations against the policy, approval on destructive tools, declared
// scopes), behaviour (wrong types, missing and unknown fields refused naming
// the field without reaching the handler; unknown tools; a panic injected in
// the chain is contained), consistency (tools/list shows exactly what each
// identity may call), scope enforcement (a caller lacking one of a tool's
// scopes neither sees it nor gets a call past the gates) and two golden files: the surface as JSON and POLICY.md,
// the per-tool answer to "should the agent be able to call this tool?". A
// change to a tool fails the build until the files are regenerated and the
// diff reviewed.
//
// Resources, resource templates and prompts get the same treatment: they
// are in the surface file (URI or URI template with its variables' schema,
// MIME type, prompt arguments' schema, policy) and classified with the
// tools' rules; POLICY.md has a Resources and a Prompts section ("should
// the agent be able to read / get it?" with scope, approval and flag); a
// consistency check requires resources/list, resources/templates/list and
// prompts/list to show each identity exactly what resources/read and
// prompts/get let past the gates (a hidden entry refused with a JSON-RPC
// error naming the audited outcome); and an audit check requires one
// record per read and get (valid, planted secrets, without the scope, a
// template URI that does not fit, an unknown URI, an unknown prompt), in
// order, with no planted secret in any record; a scope check requires
// that a caller lacking one of an entry's scopes neither sees it nor gets
// a read or get past the gates; a flag check turns each
// entry's flag off and requires it hidden and refused (denied_flag). A
// template's variables and
// a prompt's arguments are generated from the schema like a tool's, or
// taken from Config.ValidArgs under the entry's label ("resource <name>",
// "prompt <name>"). Harness.Read, GetPrompt, Resources, ResourceTemplates
// and Prompts reach them from your own tests.
//
// The surface check reports a change classified by package surfacediff,
// one line per change, most severe first ("delete_incident: approval
// loosened from always to never (security review)"). -update writes
// additive changes; a breaking or security-review change is written only
// when Config.Accept (or MCPKIT_ACCEPT) names its category, and an update
// that lacks the acknowledgement fails and leaves every golden file as it
// was. Accepted changes are recorded in a change log
// (testdata/surface.changes.json by default), whose latest entry POLICY.md
// shows as "Changes since the last reviewed version".
//
// NewHarness connects a real client in memory for unit tests of your own,
// as a chosen identity (WithIdentity), client (WithClientInfo) and protocol
// version (WithProtocolVersion), with scripted answers to approval prompts
// (WithElicitHandler, WithElicitApprove) and any go-sdk client handler
// (WithClientOptions); Text returns a result's text.
//
// TestReplayCache, TestStore, TestDecisionStore, TestSink and TestWitness
// check an implementation of approval.ReplayCache, approval.Store,
// approval.DecisionStore, audit.Sink or audit.Witness against its
// documented contract (concurrency, context
// cancellation, fail-closed errors included), one subtest per property, so
// that a team's Redis or SQL implementation can prove it conforms.
//
// CheckClientConfigs keeps the MCP client configurations a server ships
// (Claude Code, Cursor, Cline files under clients/) in step with it: each
// stdio entry pinned at `go run <pkg>@v<Config.Version>` with flags
// serve.FlagSet accepts, each HTTP entry taking its token from the user's
// environment, no unknown file or field (WithClientFiles, WithHTTPURL).
//
// The suite never runs a tool's handler: it observes calls from inside the
// chain and stops them before they reach the handler, so it is safe against a
// server wired to a real system. Each check can be skipped by name
// (Config.Skip) with a reason the report prints.
package mcpkittest
