// Package flags gates mcpkit tools on feature flags through OpenFeature.
//
// # Where it sits
//
// Gate is an mcpkit.Gate: the server asks it for tools/list visibility and
// before each tools/call, after the outer middleware (audit) and before
// argument validation. A tool whose flag is off is absent from tools/list
// and its calls are refused with a clear isError result, recorded as
// denied_flag with a *Denial as the cause.
//
// # Quick start
//
// The gate works with any OpenFeature provider. Package flags/flagdfile
// serves flagd-format flag files with live reload; it is a separate package
// so that a team on another provider does not compile it.
//
//	provider, err := flagdfile.New("flags.json") // or any openfeature.FeatureProvider
//	if err != nil {
//		return err
//	}
//	api := isolated.NewAPI() // or the OpenFeature API the process already runs
//	if err := api.SetProviderAndWait(ctx, provider); err != nil {
//		// An invalid file: every gated tool is refused until it is fixed.
//		slog.Error("flag file invalid", "error", err)
//	}
//	gate, err := flags.NewGate(api.NewClient()) // WithServerFlag, WithDefault, WithTimeout
//	if err != nil {
//		return err
//	}
//	srv, err := mcpkit.NewServer(impl, mcpkit.WithGates(gate, mcpkit.ScopeGate()))
//	// ... register tools ...
//	defer gate.NotifyChanges(srv)() // push tools/list_changed when flags change
//
// The flag of a tool is its policy's FlagKey, else "tool.<name>";
// WithServerFlag adds one flag that gates everything. The evaluation
// context's targeting key is the caller's subject, with attributes email,
// groups, client_name, client_version, tool, risk and transport.
//
// # Options
//
// Options are resolved once, in NewGate; an invalid one (a nil client, an
// empty server flag key, a risk that is not one, a timeout that is not
// positive, a nil option) is an error there. MustNewGate panics instead.
//
//   - WithServerFlag(key): one more flag that gates every tool. Default none.
//   - WithDefault(risk, on): what a missing flag means. Default on for
//     read-only tools, off for write and destructive ones.
//   - WithTimeout(d): the bound on one evaluation. Default 2s.
//
// # On failure
//
// Fail closed. A flag that does not exist takes its tool's risk default.
// Anything else that is not a clean true is off: an evaluation error, a
// provider that is not ready, a flag that is not a boolean, a provider that
// panics, or one that does not answer within the timeout (once 16
// evaluations are stuck the gate stops starting new ones until they
// return).
package flags
