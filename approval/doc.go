// Package approval is mcpkit's human-approval gate: a call to a high-impact
// tool runs only after a human said yes to that exact call.
//
// # Where it sits
//
// The gate is an mcpkit.Middleware for mcpkit.WithInnerMiddleware, so it
// runs after the gates (flags, scopes) and after the arguments are
// validated and decoded, just around the handler:
//
//	audit -> flags, scopes -> validate + decode -> approval -> handler
//
// The tool's Policy says when to ask (mcpkit.ApprovalAlways, ApprovalNever,
// ApprovalWhen with a predicate on the typed input); destructive tools ask
// by default.
//
// # Quick start
//
// The wiring (in full, errors handled, in the function approvals of
// example_test.go, which ExampleNewConsole runs; authenticate is the MCP
// transport's transport.RequestAuthenticator, so reviewers sign in with the
// same tokens; auditor is the server's audit.Auditor; secret is 32+ random
// bytes):
//
//	keys, _ := approval.NewKeyring(approval.Key{ID: "2026-11", Secret: secret}) // 32+ random bytes
//	console, _ := approval.NewConsole(ctx, approval.ConsoleConfig{
//		Authenticate: authenticate,
//		Reviewers:    approval.ReviewerRule{Scopes: []string{"incidents:approve"}, ToolScopes: true},
//		OnReview:     approval.AuditReviews(auditor, impl),
//	})
//	inClient, _ := approval.Elicit(approval.ElicitConfig{Keys: keys, Hint: console.Hint()})
//	gate, _ := approval.New(approval.FirstAvailable(inClient, console), approval.WithRedactor(auditor.Redactor()))
//	srv, _ := mcpkit.NewServer(impl, mcpkit.WithMiddleware(auditor.Middleware()), mcpkit.WithInnerMiddleware(gate))
//	mux.Handle("/approvals/", http.StripPrefix("/approvals", console))
//
// # What each approver proves
//
// Elicit asks the user in their MCP client (multi round-trip input
// requests on protocol 2026-07-28; the go-sdk turns them into
// elicitation/create on older versions). It proves only that the caller's
// client answered yes for this exact call: the client answers for its
// user, so a tampered or scripted client can say yes without a human. It
// guards against a model acting on its own, not against a malicious caller.
//
// Console holds the call while a reviewer approves or denies it over HTTP
// (JSON API and an HTML page). It proves that another person, who meets
// the approver rule, decided: the console refuses (403, audited) everyone
// who does not meet ConsoleConfig.Reviewers (scopes, all of them; groups,
// any of them; optionally the tool's own scopes) and the per-tool
// ToolReviewers; a reviewer sees only the requests they may decide; the
// caller never approves their own call (four eyes). NewConsole fails
// without a rule unless InsecureAnyReviewer says otherwise. With OnReview
// (AuditReviews) every refusal and decision is an audit record whose
// principal is the reviewer, written before the decision is applied. Use
// the console for destructive tools in production.
//
// Every approver is shown the arguments redacted exactly as the audit
// record has them (WithRedactor: pass the auditor's). Webhook notifies
// reviewers of pending console requests. AlwaysApprove and AlwaysDeny are
// for tests and development.
//
// # A fleet of replicas
//
// The console's pending requests live in its Store (ConsoleConfig.Store,
// in memory by default). A DecisionStore also carries decisions: Add puts
// a request up for review, Decide takes the one decision a request gets
// (the console checks the approver rules and four eyes against the
// request as stored, and records the review, inside it, while no other
// reviewer can decide it), and Await, on the replica whose call waits,
// returns that decision and withdraws the request. With one shared by the
// replicas of a fleet (pgstate.Store, in PostgreSQL) a reviewer decides
// through any replica's console; two reviewers deciding at once on two
// replicas get one decision and one 409; a decision for a call that is
// gone (it timed out, or its replica stopped) is refused (404 or 409) and
// audited as not_waiting, never applied later. A store shared by processes
// is also a DeliveryConfirmer: the console answers 200 only once the
// waiting call took the decision, and withdraws one it did not take in
// time (ErrNotDelivered: 409 "the waiting call did not take the decision:
// its server may have stopped; nothing ran", and a second review record,
// not_waiting, after the approval's), so a replica that died a moment ago,
// whose request still looks alive, never has an approval reported that
// does not run. MemoryStore is the
// DecisionStore of one process. With a plain Store a decision reaches only
// calls waiting in the same process (409 otherwise), and NewConsole
// removes the requests a previous run left. mcpkittest.TestDecisionStore
// checks an implementation.
//
// A shared store is storage, not an authority: with ConsoleConfig.Keys
// (the fleet's Keyring) the process that adds a request seals it
// (Request.Seal, an HMAC over everything reviewers see and rules read),
// consoles list and decide only requests whose seal verifies under a key
// of the ring (others are logged and audited as review_tampered), the
// deciding console seals its decision with the request's digest and the
// reviewer's identity (Decision.Seal), and the waiting call runs only on a
// decision whose seal verifies, that names the request it holds, and
// whose reviewer passes the approver rules and four eyes again; anything
// else is a denial, "the decision failed verification". Rotate as for
// in-client states: first add the new key first in every ring (it then
// only verifies), then last (it signs), then remove the old one. A
// reviewer's list leaves out their own calls (four eyes) and those the
// rules do not let them decide.
//
// In-client approval states are single use through a ReplayCache, in
// memory by default (states are then bound to the issuing process). A
// fleet shares one (pgstate.ReplayCache) and the same Keyring, so that the
// client's second round trip may reach any replica.
//
// # On failure
//
// Every path that is not an explicit, timely yes is a refusal: the handler
// does not run, the caller gets an isError result saying why and what to do
// next, the call's outcome is denied_approval, and Call.Approval records the
// decision (approved, denied, timeout, unavailable, invalid_state; pending
// for the first round of an in-client approval, whose outcome is
// input_required: it ran nothing). A decline, a cancelled
// prompt, an answer that does not match the schema, confirm:false, a
// forged, replayed, expired or misbound requestState, an approver error, a
// webhook that cannot be reached, a caller that disconnects and the
// deadline passing all end there. Requests pending when the server stops
// are never approved.
package approval
