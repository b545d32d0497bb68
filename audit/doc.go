// Package audit keeps a tamper-evident record of every MCP tool call, with
// secrets redacted, and traces each call per the OpenTelemetry MCP semantic
// conventions.
//
// # Where it sits
//
// The middleware is the outermost one (mcpkit.WithMiddleware), so it sees
// every outcome: ok, tool errors, invalid input, flag, scope and approval
// denials, refusals, panics and calls to unknown tools.
//
//	file, err := audit.Open("audit.jsonl")              // hash-chained JSON lines
//	if err != nil { ... }
//	defer file.Close(context.Background())
//	sink := audit.Fanout(file, audit.NewAsync(audit.OTelLogSink(nil)))
//	srv, err := mcpkit.NewServer(impl,
//		mcpkit.WithMiddleware(audit.Middleware(sink)),
//		mcpkit.WithGates(mcpkit.ScopeGate()))
//
// Verify a file with Verify or with
//
//	go run ./audit/cmd/auditverify audit.000001.jsonl audit.jsonl
//
// # What it does on failure (fail closed)
//
// For write and destructive tools a start record must reach the sink
// immediately before the handler runs (a mcpkit.Call.BeforeRun step, after
// every gate, the validation and approval, so a refused call has none); if
// the sink refuses it, the call is refused with outcome
// unavailable and a clear message. For read-only tools the final record must
// be written before the result is returned; if it cannot be, the result is
// withheld — unless WithFailOpenReadOnly is set, in which case the record is
// counted (Auditor.Unwritten) and logged in full instead. A final record
// that fails after a write tool ran cannot undo the change: it is counted
// and logged.
//
// # Records
//
// Each call produces exactly one final record; write and destructive calls
// whose handler runs also produce a start record (phase "start", same id)
// just before it. A round that only asked the client for input has outcome
// input_required and no start record. Arguments, results and error text pass through a Redactor first:
// policy paths and `mcpkit:"redact"` fields, secret-named keys, and
// credential-shaped values (JWTs, bearer and basic credentials, GitHub, AWS,
// Slack tokens, PEM private keys, URL passwords) are masked; long strings
// and large payloads are cut, keeping their length and SHA-256.
//
// # The file sink
//
// FileSink appends one record per line, each sealed in a SHA-256 chain:
// hash = SHA-256(canonical bytes || prev_hash), where the canonical bytes
// are the line without its final "hash" member. Writes from concurrent
// calls are committed together (one write, one fsync). Write returns once
// its record is in the file; fsync follows within the sync interval, or
// before Write returns with WithSyncEachRecord. The file rotates by size
// and the chain continues into the next file. At Open a torn last line
// left by a crash is cut off and reported, and the chain resumes from the
// last intact record; a chain broken anywhere else refuses to open. A file
// removed, replaced or changed under the running server makes every later
// write fail (and so every call that needs a record be refused).
//
// # Refusals
//
// Auditor.Refused records requests a transport refused before the server
// saw them. Those of an authenticated caller get one record each. Those
// without an identity, which anyone can send as fast as they like, are
// aggregated per source, reason and status: the first of an interval in
// full, the rest counted into one summary record (Record.Refusals) at the
// interval's end, all of it charged to a byte budget, with a bounded table
// of sources (see NewRefusalLimits for the defaults). Call Auditor.Close
// before closing the sink to write the last summaries.
//
// The JSON-RPC request id (request_id, jsonrpc.request.id) comes from
// Call.RequestID: mcpkit's stdio and HTTP transports supply it (go-sdk
// v1.8.0 does not expose it to handlers); over other transports it is empty.
package audit
