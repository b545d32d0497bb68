// Package mcpkit builds MCP servers whose tools are typed Go functions behind
// one middleware chain, with the policy a security review asks for written
// once per tool.
//
// A tool is a function from an input struct to an output struct. Its JSON
// Schemas are generated from the Go types (github.com/invopop/jsonschema tags:
// description, enum, minimum, maximum, pattern, default, examples; omitempty
// makes a field optional) once, at registration. Arguments are validated
// against the input schema before anything else sees them, and a failure
// names the field and the rule ("arguments.limit: must be <= 100 (got
// 101)").
//
//	srv := mcpkit.MustNewServer(&mcp.Implementation{Name: "incidents", Version: "1.0.0"},
//		mcpkit.WithDefaultIdentity(mcpkit.Identity{Subject: "me", Scopes: []string{"incidents:read"}}))
//	mcpkit.MustAddTool(srv, mcpkit.Tool{
//		Name:        "get_incident",
//		Description: "Get one incident by id.",
//		Policy:      mcpkit.Policy{Risk: mcpkit.ReadOnly, Scopes: []string{"incidents:read"}},
//	}, func(ctx context.Context, in GetIn) (Incident, error) {
//		inc, ok := store.Get(in.ID)
//		if !ok {
//			return Incident{}, mcpkit.PublicError("incident %s not found", in.ID)
//		}
//		return inc, nil
//	})
//	srv.MCPServer().Run(ctx, &mcp.StdioTransport{}) // or the transport package
//
// # The path of one call
//
//	recover (around every layer, always)
//	-> WithMiddleware      audit, tracing: sees every outcome
//	-> scope check         built in, first: Policy.Scopes against Identity.Scopes
//	-> WithGates           flags: the same decision hides the tool in tools/list
//	-> validate + decode   built in; Call.Input is set from here on
//	-> WithInnerMiddleware approval
//	-> Call.BeforeRun steps registered by middleware (audit's write-ahead
//	   record): the last word before the handler; a failing step refuses
//	-> the tool function
//
// # Declared means enforced
//
// A scope written in a Policy is checked without further wiring: the server
// installs ScopeGate itself, ahead of the gates given to WithGates (list
// ScopeGate there to place it elsewhere; it is never asked twice). A server
// whose calls are all authorized by something else opts out with
// WithoutScopeEnforcement, which NewServer logs as a warning.
//
// Results are bounded too: a result whose JSON (content and
// structuredContent) is over DefaultMaxResultBytes (WithMaxResultBytes for
// the server, Tool.MaxResultBytes per tool) is replaced by an isError
// result telling the model to ask for less; outcome result_too_large.
//
// # Failure
//
// Every failure reaches the client as a CallToolResult with IsError set and
// a message it can act on; the internal cause stays on the Call (Call.Err)
// for the audit record. A handler error is shown only if it is an *Error
// (PublicError); anything else becomes a generic message. A panic anywhere in
// the chain becomes such a result and the server keeps serving. A gate that
// fails or panics refuses the call and hides the tool: decisions fail closed.
// Registration checks names (lower snake_case, verb first, unique),
// descriptions, policies and schemas, and returns an error at start-up
// rather than failing at call time.
//
// Policy.Headers marks top-level string, integer or boolean arguments that
// HTTP clients also send as Mcp-Param-* headers (the input schema's
// "x-mcp-header", MCP 2026-07-28); marking a redacted argument is a
// registration error, since every proxy on the way sees a header. The
// transport package checks that the headers agree with the body.
//
// # Resources and prompts
//
// AddResource, AddResourceTemplate and AddPrompt register resources
// (fixed URIs and templates such as "incident://{id}") and prompts with a
// Policy, behind the same chain and gates as tools: a caller a gate
// refuses does not see the entry in resources/list,
// resources/templates/list or prompts/list, and its resources/read or
// prompts/get is refused with the same words and outcome (a JSON-RPC
// error, RefusedRPCCode, the outcome in its data), audited. Gates tell
// the requests apart by Call.Operation and Call.Tool.Kind. A template's
// variables and a prompt's arguments arrive as strings: they are mapped
// onto In's fields and validated against In's schema before the function
// runs; a variable holding a slash, "." or "..", or a control character is
// refused whatever the schema says. Resources and prompts are read-only:
// a zero Risk means ReadOnly, and a higher one is a registration error.
//
//	type IncidentRef struct {
//		ID string `json:"id" jsonschema:"description=Incident id,pattern=^INC-[0-9]+$"`
//	}
//	mcpkit.MustAddResourceTemplate(srv, mcpkit.ResourceTemplate{
//		URITemplate: "incident://{id}",
//		Name:        "incident",
//		Description: "One incident as JSON.",
//		Policy:      mcpkit.Policy{Scopes: []string{"incidents:read"}},
//	}, func(ctx context.Context, in IncidentRef) ([]*mcp.ResourceContents, error) {
//		return []*mcp.ResourceContents{{Text: `{"id":"` + in.ID + `"}`}}, nil
//	})
//
// # Subscriptions and completions
//
// Resource subscriptions and completions are the SDK's, turned on with
// WithServerOptions (mcp.ServerOptions.SubscribeHandler and
// UnsubscribeHandler, CompletionHandler). mcpkit decides each request
// before the SDK sees it, with the decision of the read or get it
// concerns, and audits it: resources/subscribe and resources/unsubscribe
// (OpSubscribeResource, OpUnsubscribeResource) and every URI of a
// 2026-07-28 subscriptions/listen (OpListen, one Call per URI) meet the
// gates and the template validation of a resources/read of the URI;
// completion/complete (OpComplete) the gates of the prompts/get of its
// ref/prompt or the resources/read of its ref/resource template (the
// values being typed are partial, so not validated; an argument the entry
// does not have is invalid input). An entry whose approval rule asks for
// a human on this input is refused (denied_approval): a subscription or a
// completion cannot be approved read by read. Inner middleware runs, the
// entry's handler never does. A URI or name nobody registered is refused
// as unknown, like a read of it; one refused URI refuses the whole listen.
// Without the SDK's handlers every caller gets method not found. A session
// holds at most DefaultMaxSubscriptions subscribed URIs
// (WithMaxSubscriptions); one more is refused as unavailable.
// Before every notifications/resources/updated reaches a subscriber the
// gates are asked again (OpResourceUpdated, a Listing question that rate
// limits do not count), so a caller a gate turned away since it subscribed
// hears nothing more.
//
// Client info (initialize's clientInfo, or the _meta client info of
// protocol 2026-07-28) with a name, version or title over MaxClientInfo
// (256 bytes) is refused with invalid params: it is copied into every
// record of the session.
package mcpkit
