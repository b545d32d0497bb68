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
// Compare works on Surface data only (Parse reads a file, FromServer reads
// a registered server), so it runs outside tests too:
//
//	go run ./mcpkittest/cmd/surfacediff old.json new.json
//
// mcpkittest.Run uses it for its golden check and to decide which
// categories an -update must acknowledge.
package surfacediff
