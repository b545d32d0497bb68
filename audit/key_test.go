package audit_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
)

// testSecret is the secret of the tests' key "k1", fixed so that a fuzz
// corpus stays valid from run to run.
var testSecret = bytes.Repeat([]byte("0123456789abcdef"), 2)

var testKeys = mustKeyring(audit.Key{ID: "k1", Secret: testSecret})

func mustKeyring(keys ...audit.Key) *audit.Keyring {
	k, err := audit.NewKeyring(keys...)
	if err != nil {
		panic(err)
	}
	return k
}

// openFile opens a file sink keyed with testKeys.
func openFile(path string, opts ...audit.FileOption) (*audit.FileSink, error) {
	return audit.Open(path, append([]audit.FileOption{audit.WithKeyring(testKeys)}, opts...)...)
}

func TestOpenRequiresAKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	_, err := audit.Open(path)
	require.ErrorContains(t, err, "Open needs a key")
	_, err = os.Stat(path)
	assert.ErrorIs(t, err, os.ErrNotExist, "nothing is written without a key")
	_, err = audit.Open(path, audit.WithKeyring(nil))
	require.ErrorContains(t, err, "WithKeyring(nil)")
	_, err = audit.Open(path, audit.WithKeyring(testKeys), audit.WithInsecureNoKey())
	require.ErrorContains(t, err, "exclude each other")
	_, err = audit.Open(path, audit.WithKeyring(testKeys), audit.WithCheckpoints(-1, 0))
	require.ErrorContains(t, err, "negative")
	_, err = audit.Open(path, audit.WithKeyring(testKeys), audit.WithWitness(nil))
	require.ErrorContains(t, err, "WithWitness(nil)")
}

func TestKeyringParsing(t *testing.T) {
	hexKey := strings.Repeat("ab", 32)
	k, err := audit.ParseKeyring("# old first\nold:" + hexKey + "\n\nnew:" + "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n")
	require.NoError(t, err)
	assert.Equal(t, []string{"old", "new"}, k.IDs())
	assert.NotContains(t, k.String(), "ab")

	for _, bad := range []string{"", "nocolon", "k:" + strings.Repeat("ab", 8), "bad id:" + hexKey, "k:" + hexKey + ",k:" + hexKey, "k:!!!"} {
		_, err := audit.ParseKeyring(bad)
		assert.Error(t, err, bad)
		if err != nil {
			assert.NotContains(t, err.Error(), hexKey, "an error never shows a secret")
		}
	}

	t.Setenv("AUDIT_TEST_KEY", "k1:"+hexKey)
	k, err = audit.KeyringFromEnv("AUDIT_TEST_KEY")
	require.NoError(t, err)
	assert.Equal(t, []string{"k1"}, k.IDs())
	_, err = audit.KeyringFromEnv("AUDIT_TEST_KEY_UNSET")
	require.ErrorContains(t, err, "not set")

	dir := t.TempDir()
	kf := filepath.Join(dir, "keys")
	k, created, err := audit.LoadOrCreateKeyFile(kf)
	require.NoError(t, err)
	assert.True(t, created)
	fi, err := os.Stat(kf)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	again, created, err := audit.LoadOrCreateKeyFile(kf)
	require.NoError(t, err)
	assert.False(t, created)
	assert.Equal(t, k.IDs(), again.IDs())
	require.NoError(t, os.Chmod(kf, 0o644))
	_, err = audit.ReadKeyFile(kf)
	require.ErrorContains(t, err, "chmod 600")
}
