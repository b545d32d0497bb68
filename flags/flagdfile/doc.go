// Package flagdfile is an OpenFeature provider that serves flags from a
// file in flagd's flag-definition format, and reloads it when it changes.
//
// It is the file provider behind a flags.Gate in most mcpkit servers, kept
// apart from package flags so that a team on another OpenFeature provider
// does not compile it (nor JsonLogic, fsnotify and murmur3). The same file
// works unchanged with flagd.
//
//	logger := slog.Default()
//	provider, err := flagdfile.New("flags.json", flagdfile.WithLogger(logger))
//	if err != nil {
//		return err // an empty path or an invalid option
//	}
//	api := isolated.NewAPI()
//	if err := api.SetProviderAndWait(ctx, provider); err != nil {
//		logger.Error("flag file invalid; gated tools are refused until it is fixed", "error", err)
//	}
//	gate, err := flags.NewGate(api.NewClient())
//
// # Format
//
// state, variants, defaultVariant, targeting and metadata per flag;
// targeting is JsonLogic plus flagd's fractional (flagd-compatible
// buckets), starts_with, ends_with and sem_ver; $evaluators with $ref;
// $flagd.flagKey and $flagd.timestamp. The evaluation context reaches the
// rules as JSON, as in flagd (a byte that is not UTF-8 reads as U+FFFD).
//
// # Options
//
// Options are resolved once, in New; an invalid one is an error there
// (MustNew panics instead), as is an empty path.
//
//   - WithDebounce(d): wait d after the last change before reloading.
//     Default 200ms; d must be above 0 and at most 900ms, so that a change
//     applies within a second.
//   - WithLogger(l): where reloads and rejected files are reported. Default:
//     discarded (events carry the same information).
//
// # On failure
//
// A file applies whole or not at all. An invalid file at start leaves the
// provider with no configuration: Init returns the error and every
// evaluation fails with PROVIDER_NOT_READY, so every gated tool is refused
// until the file is fixed. An invalid change later (a removed file
// included) keeps the last good configuration and emits PROVIDER_ERROR.
// Fixing the file emits PROVIDER_READY; a valid change emits
// PROVIDER_CONFIGURATION_CHANGED with the changed keys. Changes apply within
// a second (debounced, renames over the file and symlink swaps included).
package flagdfile
