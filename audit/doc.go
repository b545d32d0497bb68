// Package audit keeps a tamper-evident record of every MCP tool call,
// resource read and prompt get, with secrets redacted, and traces every MCP
// request per the OpenTelemetry MCP semantic conventions.
//
// # Where it sits
//
// The middleware is the outermost one (mcpkit.WithMiddleware), so it sees
// every outcome: ok, tool errors, invalid input, flag, scope and approval
// denials, refusals, panics and calls to unknown tools. It wraps resource
// reads and prompt gets registered with mcpkit (AddResource,
// AddResourceTemplate, AddPrompt) the same way.
//
// # Operation and target
//
// A record says what it is about with operation (tools/call,
// resources/read, prompts/get; resources/subscribe, resources/unsubscribe,
// subscriptions/listen (one record per resource URI) and
// completion/complete, which mcpkit decides as the read or get they
// concern) and target (the tool's or prompt's name, a completion's URI
// template, or the resource URI read or subscribed to, redacted like an
// argument since a URI may carry a credential). The tool field keeps its meaning, the tool of a tools/call,
// and is empty on a read or a get, so readers of tool records (and
// auditverify) work unchanged; records written before operation existed
// lack it and are all tool calls. Both fields are part of the sealed line
// the chain's HMAC covers. A read's result is {"contents":[...]} and a
// get's {"messages":[...]}, redacted as a tool's structured result is;
// WithResultDigest takes resource and prompt names too. Unknown URIs and
// prompt names are outcomes unknown_resource and unknown_prompt.
//
//	keys, err := audit.KeyringFromEnv(audit.EnvKey)     // or audit.ReadKeyFile
//	if err != nil {
//		return err
//	}
//	file, err := audit.Open("audit.jsonl", audit.WithKeyring(keys),
//		audit.WithWitness(audit.OTelWitness(nil)))      // keyed, chained JSON lines
//	if err != nil {
//		return err
//	}
//	defer file.Close(context.Background())
//	logs, err := audit.NewAsync(audit.OTelLogSink(nil)) // behind a queue
//	if err != nil {
//		return err
//	}
//	auditor, err := audit.New(audit.Fanout(file, logs))
//	if err != nil {
//		return err
//	}
//	srv, err := mcpkit.NewServer(impl,
//		mcpkit.WithMiddleware(auditor.Middleware()),
//		mcpkit.WithGates(mcpkit.ScopeGate()))
//
// Verify a log with Verify / VerifyWith or with
//
//	go run ./audit/cmd/auditverify -keys KEYFILE -witness CHECKPOINTS -rotated audit.jsonl
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
// Each call produces exactly one final record, except calls refused by a
// rate limit (outcome denied_rate): per subject and tool the first of an
// interval is recorded in full and the rest are counted into one summary
// record at its end (Record.Refusals), so a limited caller cannot write
// the log at the rate it is refused. Write and destructive calls
// whose handler runs also produce a start record (phase "start", same id)
// just before it. A round that only asked the client for input has outcome
// input_required and no start record. Arguments, results and error text
// pass through a Redactor first: policy paths and `mcpkit:"redact"` fields
// and secret-named keys become "[REDACTED]", and credentials in text are
// masked by rules as "[REDACTED:<rule>]": private keys, JWTs, cloud, source
// host, chat, payment, AI provider and package registry tokens, URIs with a
// password or a key as their user (a Sentry DSN), netrc entries, password
// hashes (htpasswd, crypt, bcrypt, {SHA}), Authorization schemes, key=value
// / key: value / "key": "value" assignments naming a secret (also
// URL-encoded, escaped at any depth, with \uXXXX in the key, and with an
// array or object as the value, masked whole), presigned-URL signatures
// (Signature, X-Amz-Signature, sig), and base64 of user:password. A token
// rule's word boundary also holds after '_', so a token glued to a tool
// name (get_ghp_...) is found. Trade-offs, for precision: a bare 40-character
// AWS secret access key is masked only in context (after an AKIA/ASIA key
// id or a key naming AWS), as bare it cannot be told from other base64; an
// assignment whose value is an ordinary word (bearer, basic, token,
// required, missing, invalid, none, null, nil, empty, undefined, expired)
// is kept, so "no valid credentials: missing bearer token" stays readable;
// a netrc entry needs its login. A keyword
// prefilter keeps text without a keyword to one pass; JSON is redacted in
// one pass over its bytes. Long strings and large payloads are cut,
// keeping their length and SHA-256. WithResultDigest records chosen tools'
// results as size and digest only. Record.AppendJSON encodes a record,
// copying the redacted arguments and result as they are. RedactLogs wraps
// a slog.Handler so that server log lines, which quote what clients send,
// are masked by the same Redactor; span attributes the client chooses
// (request id, session id, protocol version) are masked too.
//
// # The file sink
//
// FileSink appends one record per line. Writes from concurrent calls are
// committed together (one write). Write returns once its record is in the
// file and the file written is still the one at the path (one stat call
// per commit): a file removed or replaced under the running server fails
// that write and every later one, so the next write-ahead record is
// refused and its call does not run. fsync follows within the sync
// interval, from a background flush that does not hold up writes meanwhile
// (a slow disk does not stall calls), or before Write returns with
// WithSyncEachRecord. A write-ahead record (phase "start") is always
// fsynced before Write returns: the change it announces must not survive a
// power loss that its record does not (a final record reaches the file
// before the result is returned, which survives a crash of the process,
// and the disk within the interval). A failed fsync fails the sink like a
// lost file. The file
// rotates by size (WithMaxBytes) and the chain continues into the next
// file. At Open a torn last line left by a crash (an incomplete JSON text
// without a newline, or zeros a power loss left: a crash tears at most the
// last record) is cut off,
// logged, and put on record by a sealed recovery line (kind "recovery":
// the torn line's number, byte count and SHA-256), and the chain resumes
// from the last intact record. Open locks the file first (flock, on
// Unix; the lock dies with the process): a second process on the same
// path is refused, with a message, rather than cut, resume or interleave
// the chain of the first. An unterminated tail that holds one or
// more complete records, or bytes that cannot start a record, is no crash:
// Open refuses to start rather than cut sealed records. A chain broken
// anywhere else, or sealed with a key not in the keyring, refuses to open.
//
// # Integrity
//
// Each line is sealed in a chain keyed with a secret the server holds:
// hash = HMAC-SHA-256(key, canonical bytes || prev_hash), where the
// canonical bytes are the line without its final "hash" member and include
// seq, prev_hash and kid, the id of the key. Someone who can write the file
// but lacks the key cannot alter, insert or re-seal a record: changing one
// record and re-hashing every record after it fails every one of them.
//
// HMAC rather than Ed25519 signatures: a MAC per record costs about a
// microsecond, so every record is authenticated on its own (a verifier
// names each altered record and keeps checking past a gap), and the key
// is one secret to provision. The price: the verifier needs the secret,
// and whoever can verify can also forge. An auditor who must not be able
// to forge needs signatures; that is not offered.
//
// Keys: WithKeyring(k) seals with the newest key of k and verifies with
// all of them, so a key is rotated by appending a new one and restarting;
// keep the old ones for as long as their records must verify. Load the
// keyring from an environment variable (KeyringFromEnv(EnvKey), entries
// "kid:secret" in hex or base64, oldest first) or a file readable by its
// owner only (ReadKeyFile; LoadOrCreateKeyFile creates one for
// development). Secrets never go into the log, an error or a String.
// Open refuses to run without a key; WithInsecureNoKey writes a plain
// SHA-256 chain, which detects accidents but not a rewrite.
//
// Anchors: every file starts with a genesis line (kind "genesis": server,
// host, log id, instance id, file number, its seq, and as prev_hash the last
// hash of the file before), so a head cut shows. A checkpoint line (kind
// "checkpoint") is written every N records or T seconds
// (WithCheckpoints, default 1000 and 10s), at Open and at Close; once it
// is fsynced it goes, signed, to the witnesses (WithWitness): a
// FileWitness on a path the log's writers cannot rewrite, OTelWitness
// into the OpenTelemetry log pipeline, or any Witness.
// When Open starts a new log (no file, or an empty one, and no rotated
// file) it reads back the checkpoints of each witness that can
// (WitnessReader; FileWitness can): checkpoints signed with the keyring
// there are of an earlier log of this server that is gone. Open then logs
// an ERROR naming it (predecessor_log, predecessor_seq) and the new
// genesis line records it (pred_log, pred_seq, pred_hash), so the
// replacement stays on record; Recovered().Predecessor returns it.
// A FileWitness checks before each checkpoint that its path still names
// the file it opened: a witness file removed or replaced under the server
// (even by a link to /dev/null) fails that checkpoint and every later one;
// the sink logs each failure at ERROR ("a witness did not take a
// checkpoint") and goes on serving, as for any witness error.
//
// What a verifier detects, with the key:
//   - an altered, inserted, re-sealed or foreign record (altered,
//     unauthenticated, unknown_key, foreign), each one named;
//   - records removed in between, reordered or duplicated (gap,
//     out_of_order, relinked), naming the seqs missing;
//   - a torn line the sink cut after a crash: reported from its recovery
//     line (VerifyResult.Recoveries), not a problem;
//   - a cut head: the first line is not the genesis of file 1
//     (head_truncated, records 1..n-1), and a rotated file left out (gap);
//   - with a witness's checkpoints only: records cut from the end up to
//     the last checkpoint the witness holds (tail_truncated, naming the
//     seqs), and a witnessed checkpoint rewritten (witness_mismatch);
//   - authentic records of two chains in one file (interleaved): two
//     processes appended to it, or a log was spliced into another;
//   - with a witness only: a whole log deleted or replaced (by a new log
//     of the restarted server, or another log sealed with the same key):
//     every log whose checkpoints the witness holds, signed with the
//     keyring and written by an instance of the log verified (see In a
//     fleet), must be among the files given, else missing_log names it,
//     its instance and its last witnessed seq; and a log none of whose records is
//     covered by a witness checkpoint (at a seq at or after the first
//     record given) fails as unwitnessed, also when the witness holds
//     nothing, or ends before the log began (then verify again with a
//     newer copy of the witness). Without a witness too: a log started
//     in place of one that was gone (see below) names it in its genesis
//     line, and missing_log reports it at that line. Checkpoints signed
//     with another key
//     (another server's log in a shared pipeline) are ignored. So a
//     witness vouches for one log per instance: start a new witness file
//     with a new log.
//
// Not detected: without a witness, records cut from the end at a line
// boundary (the log just looks shorter); with one, records written after
// the last checkpoint it received (at most N records or T seconds, and a
// clean Close leaves none). Nor anything done by someone holding the key,
// such as the server's own process: the key protects the log from those
// who can write the file, not from the server.
//
// # In a fleet
//
// Each process writes as an instance: WithInstance(id), else
// DefaultInstance(path) (the host name and a digest of the path, stable
// across restarts). The genesis, checkpoint and recovery lines and every
// record carry it as "instance", sealed with the line, so a reader can
// tell which replica served a call (Record.Instance, set by the sink).
// Give each replica its own id, stable across its restarts, and its own
// file (audit/{instance}.jsonl): two processes on one file are refused
// by the lock, and where no lock holds (a volume shared without one)
// the verifier reports the fork (interleaved).
//
// The replicas may share a witness (one FileWitness file, one
// collector): it keeps their logs apart by instance. A new log looks for
// a lost predecessor among the logs of its own instance only, and a log
// is held to account only for the witness's logs of its own instances
// (VerifyConfig.Instance, auditverify -instance, names the instance a
// file must belong to, so another replica's log copied over it is
// foreign). VerifyDir (auditverify -dir) verifies a directory of such
// files, one chain per file and its rotated files, and reports per
// instance (ChainReport: records, seqs, checkpoints, RecordCounts of the
// calls by outcome and tool, problems naming the instance) and a total:
// there, every log the witness holds must be one of the chains (a
// replica's deleted log is missing_log, naming its instance), and two
// chains of one instance are duplicate_instance. A chain's instance is
// the one its authenticated genesis says; an authentic line of another
// instance that does not continue the chain (copied in from another
// replica's file) is foreign, naming its line, instance and seq, and is
// left out of the chain (its seqs, checkpoints and counts); a missing
// log whose lines were found so says where. A file named
// {instance}.jsonl that holds another instance's chain (files swapped or
// renamed) is misnamed; not judged are names that are not instance ids,
// the instance's id with a suffix (replica-b.old.jsonl), logs begun
// before instance ids and logs under their DefaultInstance. A file with
// no line of a log is empty_log, for the instance its name says, with
// the checkpoints the witness holds of that instance. Records written before
// instance ids have none and keep verifying; their genesis and checkpoint lines carry a random id per
// process, so a log of that age is held to account only for the
// witness's logs of those ids.
//
// # Refusals
//
// Auditor.Refused records requests a transport refused before the server
// saw them (serve.AuditRefusals connects it to transport's reject hook in
// one option; servers run by package serve have it built in). Those of an authenticated caller get one record each. Those
// without an identity, which anyone can send as fast as they like, are
// aggregated per source, reason and status: the first of an interval in
// full, the rest counted into one summary record (Record.Refusals) at the
// interval's end, all of it charged to a byte budget, with a bounded table
// of sources (see NewRefusalLimits for the defaults). Call Auditor.Close
// before closing the sink to write the last summaries.
//
// # Telemetry
//
// Spans and metrics follow the OpenTelemetry MCP semantic conventions as
// published in semantic-conventions-genai, docs/gen-ai/mcp.md (status
// Development), matched on: the server span (kind SERVER, name
// "{mcp.method.name} {target}" with the tool or the prompt as target,
// "{mcp.method.name}" when there is no low-cardinality target (a
// resources/read, whose URI is only the span attribute mcp.resource.uri,
// redacted, and never a metric attribute); status ERROR when error.type is
// set, its description the JSON-RPC error message); its attributes
// mcp.method.name (required), error.type (iff the operation fails: the
// JSON-RPC code as a string, "tool_error" for a CallToolResult with
// isError), rpc.response.status_code (when the response has an error
// code), gen_ai.tool.name (when the operation is about a tool),
// gen_ai.prompt.name (a registered prompt's prompts/get),
// jsonrpc.request.id (never for notifications), gen_ai.operation.name
// ("execute_tool", tool calls only), mcp.protocol.version, mcp.session.id,
// network.transport ("tcp" on HTTP, "pipe" on stdio),
// network.protocol.name/version, client.address/client.port; context from
// params._meta (traceparent, tracestate) as the parent, the ambient span as
// a link; and the histograms mcp.server.operation.duration and
// mcp.server.session.duration, unit "s", explicit buckets [0.01, 0.02, 0.05,
// 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300], with the metric attributes
// the convention lists (no session id, request id or client address).
//
// Auditor.Instrument installs the receiving middleware that traces every
// method; without it the tool-call middleware traces tools/call alone. A
// tool name the server does not have is the client's string: it names no
// span, attribute or metric series, and the record redacts it. Auditor.Refused
// traces a request the transport refused like one the server answered,
// with error.type the JSON-RPC code sent and the method _OTHER unless the
// transport named a known one. Session durations are recorded for sessions
// that begin with initialize (stdio, stateful HTTP); stateless HTTP and
// protocol 2026-07-28 have none.
//
// The JSON-RPC request id (request_id, jsonrpc.request.id) comes from
// Call.RequestID: mcpkit's stdio and HTTP transports supply it (go-sdk
// v1.8.0 does not expose it to handlers); over other transports it is empty.
package audit
