package flagdfile_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/open-feature/go-sdk/openfeature"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func flagValue(t *testing.T, env *fileEnv, key string) (bool, error) {
	t.Helper()
	return env.client.BooleanValue(context.Background(), key, false, openfeature.NewEvaluationContext("u", nil))
}

func eventually(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	require.Eventually(t, cond, 5*time.Second, 5*time.Millisecond, msg)
}

// An invalid edit keeps the last good configuration and reports an error
// event; a valid edit after it applies.
func TestInvalidEditKeepsLastGood(t *testing.T) {
	env := newFileEnv(t, boolFlags(map[string]bool{"a": true, "b": false}))
	require.NoError(t, env.initErr)

	// Half of a flag change plus a syntax error: nothing of it applies.
	writeAtomic(t, env.path, `{"flags": {"a": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off"}, "b": {`)
	eventually(t, func() bool { return env.events.has("PROVIDER_ERROR", "still serving the last good configuration") }, "error event")
	v, err := flagValue(t, env, "a")
	require.NoError(t, err, "the last good configuration still serves")
	assert.True(t, v)
	eventually(t, func() bool { return env.client.State() == openfeature.ErrorState }, "client in error state")

	// A semantically invalid edit (unknown operator) is refused the same way.
	before := env.events.count("PROVIDER_ERROR")
	writeAtomic(t, env.path, `{"flags": {"a": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off", "targeting": {"bogus": []}}}}`)
	eventually(t, func() bool { return env.events.count("PROVIDER_ERROR") > before }, "second error event")
	v, _ = flagValue(t, env, "a")
	assert.True(t, v)

	writeAtomic(t, env.path, boolFlags(map[string]bool{"a": false, "b": true}))
	eventually(t, func() bool { v, _ := flagValue(t, env, "b"); return v }, "valid edit applies")
	v, _ = flagValue(t, env, "a")
	assert.False(t, v)
	// The client's state follows the provider's events asynchronously.
	eventually(t, func() bool { return env.client.State() == openfeature.ReadyState }, "client ready again")
}

// Removing the file keeps the last good configuration (with an error
// event); putting a file back applies it.
func TestFileRemovedAndReplaced(t *testing.T) {
	env := newFileEnv(t, boolFlags(map[string]bool{"a": true}))
	require.NoError(t, env.initErr)
	require.NoError(t, os.Remove(env.path))
	eventually(t, func() bool { return env.events.has("PROVIDER_ERROR", "no such file") }, "removal reported")
	v, err := flagValue(t, env, "a")
	require.NoError(t, err)
	assert.True(t, v)

	eventually(t, func() bool { return env.client.State() == openfeature.ErrorState }, "client in error state")

	require.NoError(t, os.WriteFile(env.path, []byte(boolFlags(map[string]bool{"a": false})), 0o600))
	eventually(t, func() bool { v, _ := flagValue(t, env, "a"); return !v }, "recreated file applies")
	// Events are delivered asynchronously, after the new config applies. A
	// configuration change would leave the client in ERROR: recovering is
	// PROVIDER_READY.
	eventually(t, func() bool { return env.events.has("PROVIDER_READY", "reloaded") }, "recovery reported")
	eventually(t, func() bool { return env.client.State() == openfeature.ReadyState }, "client ready again")

	// A later valid edit is a plain configuration change.
	writeAtomic(t, env.path, boolFlags(map[string]bool{"a": true}))
	eventually(t, func() bool { return env.events.has("PROVIDER_CONFIGURATION_CHANGED", "reloaded") }, "change reported")
	assert.Equal(t, openfeature.ReadyState, env.client.State())
}

// A file that is broken and then put back exactly as it was changes no
// flag, but the provider must still report that it recovered: otherwise
// the clients stay in ERROR although the file is fine.
func TestRestoredUnchangedFileRecovers(t *testing.T) {
	good := boolFlags(map[string]bool{"a": true})
	env := newFileEnv(t, good)
	require.NoError(t, env.initErr)
	writeAtomic(t, env.path, `{"flags": `)
	eventually(t, func() bool { return env.client.State() == openfeature.ErrorState }, "client in error state")

	writeAtomic(t, env.path, good)
	eventually(t, func() bool { return env.events.has("PROVIDER_READY", "configuration unchanged") }, "recovery reported")
	eventually(t, func() bool { return env.client.State() == openfeature.ReadyState }, "client ready again")
	v, err := flagValue(t, env, "a")
	require.NoError(t, err)
	assert.True(t, v)
}

// A provider that starts on a bad file denies everything, then recovers
// when the file is fixed, reporting ready.
func TestRecoversFromBadStart(t *testing.T) {
	env := newFileEnv(t, `{"flags": `)
	require.Error(t, env.initErr)
	_, err := flagValue(t, env, "a")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "PROVIDER_NOT_READY")

	writeAtomic(t, env.path, boolFlags(map[string]bool{"a": true}))
	eventually(t, func() bool { v, _ := flagValue(t, env, "a"); return v }, "fixed file applies")
	eventually(t, func() bool { return env.client.State() == openfeature.ReadyState }, "provider ready")
	eventually(t, func() bool { return env.events.has("PROVIDER_READY", "reloaded") }, "ready reported")
}
