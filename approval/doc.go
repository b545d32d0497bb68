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
//	keys, _ := approval.NewKeyring(approval.Key{ID: "2025-06", Secret: secret})
//	inClient, _ := approval.Elicit(approval.ElicitOptions{Keys: keys, Hint: console.Hint()})
//	console, _ := approval.NewConsole(ctx, approval.ConsoleOptions{Authenticate: sso})
//	gate, _ := approval.New(approval.FirstAvailable(inClient, console))
//	srv, _ := mcpkit.NewServer(impl, mcpkit.WithInnerMiddleware(gate))
//	http.Handle("/approvals/", http.StripPrefix("/approvals", console))
//
// Approvers: Elicit asks the user in their MCP client (multi round-trip
// input requests on protocol 2026-07-28; the go-sdk turns them into
// elicitation/create on older versions). Console holds the call while a
// reviewer approves or denies it over HTTP (JSON API and an HTML page),
// four-eyes by default, with Webhook notifications. AlwaysApprove and
// AlwaysDeny are for tests and development.
//
// # On failure
//
// Every path that is not an explicit, timely yes is a refusal: the handler
// does not run, the caller gets an isError result saying why and what to do
// next, the call's outcome is denied_approval, and Call.Approval records the
// decision (approved, denied, timeout, unavailable, invalid_state; pending
// for the first round of an in-client approval). A decline, a cancelled
// prompt, an answer that does not match the schema, confirm:false, a
// forged, replayed, expired or misbound requestState, an approver error, a
// webhook that cannot be reached, a caller that disconnects and the
// deadline passing all end there. Requests pending when the server stops
// are never approved.
package approval
