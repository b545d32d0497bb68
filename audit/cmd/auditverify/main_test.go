package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
)

// logFixture writes a keyed, witnessed log of n call records with a
// checkpoint every 10 records, and returns its path, key file and witness
// file.
func logFixture(t *testing.T, n int, opts ...audit.FileOption) (path, keyFile, witness string) {
	t.Helper()
	dir := t.TempDir()
	path, keyFile, witness = filepath.Join(dir, "audit.jsonl"), filepath.Join(dir, "keys"), filepath.Join(dir, "witness", "checkpoints.jsonl")
	keys, _, err := audit.LoadOrCreateKeyFile(keyFile)
	require.NoError(t, err)
	w, err := audit.NewFileWitness(witness)
	require.NoError(t, err)
	t.Cleanup(func() { _ = w.Close() })
	s, err := audit.Open(path, append([]audit.FileOption{audit.WithKeyring(keys), audit.WithWitness(w), audit.WithCheckpoints(10, 0)}, opts...)...)
	require.NoError(t, err)
	for i := range n {
		require.NoError(t, s.Write(context.Background(), &audit.Record{ID: fmt.Sprintf("call-%03d", i), Tool: "update_x", Outcome: "ok",
			Principal: audit.Principal{Subject: "alice"}}))
	}
	require.NoError(t, s.Close(context.Background()))
	return path, keyFile, witness
}

func lines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return strings.SplitAfter(strings.TrimSuffix(string(b), "\n"), "\n")
}

func write(t *testing.T, path string, l []string) {
	t.Helper()
	s := strings.Join(l, "")
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	require.NoError(t, os.WriteFile(path, []byte(s), 0o600))
}

func verify(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCleanLogVerifies(t *testing.T) {
	path, keys, witness := logFixture(t, 25)
	code, out, errOut := verify("-keys", keys, "-witness", witness, path)
	require.Equal(t, 0, code, errOut)
	// genesis, open checkpoint (seq 2), 25 records with a checkpoint
	// after each 10 (seq 13, 24), close checkpoint (seq 30)
	assert.Contains(t, out, "OK: 30 records (25 calls), seq 1..30")
	assert.Contains(t, out, "witness: 4 checkpoints, up to seq 30")

	// The key from the environment, by default $MCPKIT_AUDIT_KEY.
	b, err := os.ReadFile(keys)
	require.NoError(t, err)
	t.Setenv(audit.EnvKey, string(b))
	code, _, errOut = verify(path)
	assert.Equal(t, 0, code, errOut)
}

func TestHeadCutIsReportedWithTheRecords(t *testing.T) {
	path, keys, witness := logFixture(t, 25)
	write(t, path, lines(t, path)[10:])
	code, _, errOut := verify("-keys", keys, "-witness", witness, path)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, path+":1: [head_truncated] the log starts at seq 11, which is not a genesis line: the records before it were removed")
	// A forged genesis line cannot be made without the key.
	l := lines(t, path)
	write(t, path, append([]string{strings.Replace(l[0], `"seq":11`, `"seq":1`, 1)}, l...))
	code, _, errOut = verify("-keys", keys, path)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "[altered]")
}

func TestTailCutBeyondACheckpointIsReportedWithAWitness(t *testing.T) {
	path, keys, witness := logFixture(t, 25)
	l := lines(t, path)
	write(t, path, l[:len(l)-3])
	code, _, errOut := verify("-keys", keys, "-witness", witness, path)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, fmt.Sprintf("%s:%d: [tail_truncated] the log ends at seq 27 but the witness holds a checkpoint at seq 30", path, len(l)-2))
	assert.Contains(t, errOut, "records 28..30 were cut from the end")

	// Without the witness, a cut at a record boundary is not detectable:
	// the documented limit.
	code, out, errOut := verify("-keys", keys, path)
	assert.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "no witness given: records cut from the end cannot be detected")
}

func TestGapIsReportedWithTheRecords(t *testing.T) {
	path, keys, witness := logFixture(t, 25)
	l := lines(t, path)
	write(t, path, append(l[:5:5], l[9:]...))
	code, _, errOut := verify("-keys", keys, "-witness", witness, path)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, path+":6: [gap] records 6..9 are missing: seq 10 follows seq 5")
}

// rehash rewrites the chain from line i on the way someone who can write
// the file but has no key would: a new SHA-256 for each record, and each
// prev_hash pointing at the new hash before it.
func rehash(l []string, from int) []string {
	tail := regexp.MustCompile(`,"hash":"[0-9a-f]{64}"\}\n$`)
	prevRE := regexp.MustCompile(`"prev_hash":"[0-9a-f]{64}"`)
	prev := tail.FindString(l[from-1])[len(`,"hash":"`) : len(`,"hash":"`)+64]
	for i := from; i < len(l); i++ {
		canonical := tail.ReplaceAllString(l[i], "}")
		canonical = prevRE.ReplaceAllString(canonical, `"prev_hash":"`+prev+`"`)
		sum := sha256.Sum256([]byte(canonical + prev))
		prev = hex.EncodeToString(sum[:])
		l[i] = strings.TrimSuffix(canonical, "}") + `,"hash":"` + prev + "\"}\n"
	}
	return l
}

func TestRewriteAndRehashWithoutTheKeyIsReported(t *testing.T) {
	path, keys, witness := logFixture(t, 25)
	l := lines(t, path)
	require.Contains(t, l[11], `"subject":"alice"`)
	l[11] = strings.Replace(l[11], `"subject":"alice"`, `"subject":"mallory"`, 1)
	write(t, path, rehash(l, 11))
	code, _, errOut := verify("-keys", keys, "-witness", witness, path)
	assert.Equal(t, 1, code)
	for seq := 12; seq <= len(l); seq++ {
		assert.Contains(t, errOut, fmt.Sprintf("%s:%d: [altered] MAC mismatch at seq %d", path, seq, seq))
	}
	assert.NotContains(t, errOut, ":11: ")
	assert.Contains(t, errOut, "[witness_mismatch]", "the witnessed checkpoints after the rewrite no longer match")

	// The same rewrite of an unkeyed log goes unnoticed by an unkeyed
	// check: what the key buys.
	upath := filepath.Join(t.TempDir(), "unkeyed.jsonl")
	s, err := audit.Open(upath, audit.WithInsecureNoKey())
	require.NoError(t, err)
	for i := range 25 {
		require.NoError(t, s.Write(context.Background(), &audit.Record{ID: fmt.Sprint(i), Tool: "update_x", Principal: audit.Principal{Subject: "alice"}}))
	}
	require.NoError(t, s.Close(context.Background()))
	l = lines(t, upath)
	l[12] = strings.Replace(l[12], `"subject":"alice"`, `"subject":"mallory"`, 1)
	write(t, upath, rehash(l, 12))
	code, out, errOut := verify("-insecure-no-key", upath)
	assert.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "UNKEYED")
	code, _, errOut = verify("-keys", keys, upath)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "[unauthenticated]")
}

func TestRotatedLogWithKeyRotationVerifies(t *testing.T) {
	dir := t.TempDir()
	path, keyFile, witness := filepath.Join(dir, "audit.jsonl"), filepath.Join(dir, "keys"), filepath.Join(dir, "witness.jsonl")
	w, err := audit.NewFileWitness(witness)
	require.NoError(t, err)
	defer w.Close()
	writeWith := func(keys *audit.Keyring, from int) {
		s, err := audit.Open(path, audit.WithKeyring(keys), audit.WithWitness(w), audit.WithMaxBytes(2000), audit.WithCheckpoints(7, 0))
		require.NoError(t, err)
		for i := from; i < from+30; i++ {
			require.NoError(t, s.Write(context.Background(), &audit.Record{ID: fmt.Sprint(i), Tool: "update_x", Outcome: "ok"}))
		}
		require.NoError(t, s.Close(context.Background()))
	}
	old, _, err := audit.LoadOrCreateKeyFile(keyFile)
	require.NoError(t, err)
	writeWith(old, 0)
	// Rotate the key: append a new one; the old one stays to verify.
	f, err := os.OpenFile(keyFile, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("k-new:" + strings.Repeat("5a", 32) + "\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	both, err := audit.ReadKeyFile(keyFile)
	require.NoError(t, err)
	writeWith(both, 30)

	rot, err := audit.RotatedFiles(path)
	require.NoError(t, err)
	require.Greater(t, len(rot), 3)
	code, out, errOut := verify("-keys", keyFile, "-witness", witness, "-rotated", path)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "(60 calls), seq 1..")
	assert.Contains(t, out, "keys "+old.IDs()[0]+",k-new")
	all := ""
	for _, p := range append(rot, path) {
		all += strings.Join(lines(t, p), "")
	}
	assert.Contains(t, all, `"kid":"`+old.IDs()[0]+`"`)
	assert.Contains(t, all, `"kid":"k-new"`)

	// A rotated file left out is a gap; the oldest left out, head
	// truncation (unless -partial).
	code, _, errOut = verify(append([]string{"-keys", keyFile}, append(append([]string{rot[0]}, rot[2:]...), path)...)...)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, rot[2]+":1: [gap] records ")
	code, _, errOut = verify(append([]string{"-keys", keyFile}, append(rot[1:], path)...)...)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, rot[1]+":1: [head_truncated] the log starts at file 2")
	code, _, errOut = verify(append([]string{"-keys", keyFile, "-partial"}, append(rot[1:], path)...)...)
	assert.Equal(t, 0, code, errOut)
}

func TestUsageAndKeyErrors(t *testing.T) {
	path, keys, _ := logFixture(t, 3)
	t.Setenv(audit.EnvKey, "")
	code, _, errOut := verify(path)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "no key: give the log's keyring with -keys FILE")
	code, _, _ = verify()
	assert.Equal(t, 2, code)
	code, _, _ = verify("-keys", keys, filepath.Join(t.TempDir(), "missing"))
	assert.Equal(t, 1, code)
	require.NoError(t, os.Chmod(keys, 0o644))
	code, _, errOut = verify("-keys", keys, path)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "chmod 600")
}
