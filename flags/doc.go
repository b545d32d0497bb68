// Package flags gates mcpkit tools on feature flags through OpenFeature,
// and ships a provider that serves flagd-format flag files with live reload.
//
// # Where it sits
//
// Gate is an mcpkit.Gate: the server asks it for tools/list visibility and
// before each tools/call, after the outer middleware (audit) and before
// argument validation. A tool whose flag is off is absent from tools/list
// and its calls are refused with a clear isError result, recorded as
// denied_flag with a *Denial as the cause.
//
//	api := isolated.NewAPI()
//	provider := flags.NewFileProvider("flags.json")
//	_ = api.SetProviderAndWait(ctx, provider) // an invalid file denies, see below
//	gate, err := flags.NewGate(api.NewClient()) // an invalid option is an error
//	if err != nil {
//		return err
//	}
//	srv, _ := mcpkit.NewServer(impl, mcpkit.WithGates(gate, mcpkit.ScopeGate()))
//	// ... register tools ...
//	defer gate.NotifyChanges(srv)() // push tools/list_changed on reload
//
// Any OpenFeature provider works in place of FileProvider. The flag of a
// tool is its policy's FlagKey, else "tool.<name>"; WithServerFlag adds one
// flag that gates everything. The evaluation context's targeting key is the
// caller's subject, with attributes email, groups, client_name,
// client_version, tool, risk and transport.
//
// # On failure
//
// Fail closed. A flag that does not exist takes its tool's risk default (on
// for read-only tools, off for write and destructive ones; WithDefault
// changes them). Anything else that is not a clean true is off: an
// evaluation error, a provider that is not ready, a flag that is not a
// boolean, a provider that panics, or one that does not answer within the
// timeout (WithTimeout, 2s by default; once 16 evaluations are stuck the
// gate stops starting new ones until they return).
//
// FileProvider applies a file whole or not at all: an invalid file at
// start leaves it with no configuration (every evaluation fails, so every
// gated tool is refused) until the file is fixed; an invalid change later
// keeps the last good configuration and emits PROVIDER_ERROR. A removed
// file is an invalid change. Changes apply within a second (debounced,
// renames over the file included).
package flags
