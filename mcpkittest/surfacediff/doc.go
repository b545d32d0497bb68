// Package surfacediff classifies the differences between two versions of
// an MCP server's tool surface (what mcpkittest writes to
// testdata/surface.json), so that a reviewer reads what a change means
// rather than "golden mismatch":
//
//   - security review: risk raised or lowered, a scope removed or replaced,
//     Public turned on, approval loosened (always → when → never) or its
//     condition changed, a flag key changed or its default turned on, a
//     redaction removed, idempotent or open world turned on, annotations
//     changed without a policy change, a new write or destructive tool, a
//     new public tool;
//   - breaking for clients: a tool or property removed or renamed, a new
//     required input, an input type, enum, pattern, format, range or length
//     narrowed, an input default changed, an output property removed,
//     retyped or made optional, an output enum widened, a scope added,
//     Public turned off, approval tightened, a flag default turned off, a
//     schema keyword the classifier does not analyse changed;
//   - additive: a new optional input, a widened constraint, a new
//     read-only tool behind scopes, description, title and other
//     documentation changes, a redaction added.
//
// Resources, resource templates and prompts are compared with the same
// rules, and their changes name them ("resource status: ...", "prompt
// summarize_thing: ..."; Change.Entry): a new one readable without a scope,
// a scope removed, Public turned on, approval loosened or a redaction
// removed needs a security review; one removed, a resource's URI or MIME
// type changed, a template's URI template or a variable renamed, a prompt
// renamed or given a new required argument, a variable or argument
// narrowed is breaking; a new one behind scopes, a new optional prompt
// argument, a resource renamed under the same URI and documentation are
// additive. A server with tools only keeps the file's list form; one with
// resources or prompts writes {"tools", "resources",
// "resource_templates", "prompts"}.
//
// Compare works on Surface data only (Parse reads a file, FromServer reads
// a registered server), so it runs outside tests too:
//
//	go run ./mcpkittest/cmd/surfacediff old.json new.json
//
// mcpkittest.Run uses it for its golden check and to decide which
// categories an -update must acknowledge.
package surfacediff
