package audit_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
)

func rec(i int) *audit.Record {
	return &audit.Record{
		ID:        fmt.Sprintf("%032d", i),
		Time:      audit.Time{Time: time.Date(2026, 5, 1, 12, 0, 0, i, time.UTC)},
		Server:    audit.ServerInfo{Name: "s", Version: "1"},
		Principal: audit.Principal{Subject: "alice"},
		Tool:      "get_thing",
		Risk:      "read_only",
		Arguments: []byte(`{"hash":"x","n":` + fmt.Sprint(i) + `}`),
		Outcome:   "ok",
	}
}

func writeN(t testing.TB, s *audit.FileSink, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		require.NoError(t, s.Write(context.Background(), rec(i)))
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return strings.SplitAfter(string(b), "\n")
}

func writeLines(t *testing.T, path string, lines []string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(lines, "")), 0o600))
}

func TestFileSinkChainsAndFillsChainFields(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	s, err := openFile(path, audit.WithServerInfo("things", "1.2.3"))
	require.NoError(t, err)
	r := rec(1)
	require.NoError(t, s.Write(context.Background(), r))
	assert.Equal(t, uint64(3), r.Seq, "after the genesis line and the open checkpoint")
	assert.Equal(t, "k1", r.Kid)
	assert.Len(t, r.Hash, 64)
	writeN(t, s, 2, 9)
	require.NoError(t, s.Close(context.Background()))
	assert.ErrorIs(t, s.Write(context.Background(), rec(99)), audit.ErrClosed)

	res, err := audit.Verify(testKeys, path)
	require.NoError(t, err)
	assert.Equal(t, 10, res.Calls)
	assert.Equal(t, 13, res.Records, "genesis, open checkpoint, 10 records, close checkpoint")
	assert.Equal(t, uint64(13), res.LastSeq)

	lines := readLines(t, path)
	assert.Regexp(t, `^\{"kind":"genesis","time":"[^"]+","server":\{"name":"things","version":"1.2.3"\},"host":"[^"]*","log":"[0-9a-f]{32}","instance":"[A-Za-z0-9._-]+-[0-9a-f]{8}","file":1,"seq":1,"prev_hash":"`+audit.GenesisHash+`","kid":"k1","hash":"[0-9a-f]{64}"\}\n$`, lines[0])
	assert.Regexp(t, `^\{"kind":"checkpoint",.*"reason":"open","seq":2,`, lines[1])
	line := lines[2]
	assert.True(t, strings.HasPrefix(line, `{"id":"`), line)
	assert.Contains(t, line, `"time":"2026-05-01T12:00:00.000000001Z"`)
	assert.Contains(t, line, `"seq":3,"prev_hash":"`+r.PrevHash+`","kid":"k1","hash":"`+r.Hash+`"}`)
	assert.Regexp(t, `^\{"kind":"checkpoint",.*"reason":"close","seq":13,`, lines[12])
	assert.NotContains(t, strings.Join(lines, ""), string(testSecret), "the key is never in the log")

	// Reopening resumes the chain.
	s, err = openFile(path)
	require.NoError(t, err)
	assert.Equal(t, uint64(13), s.Recovered().LastSeq)
	assert.Equal(t, res.Log, s.Recovered().Log, "the log id is resumed")
	writeN(t, s, 11, 5)
	require.NoError(t, s.Close(context.Background()))
	res, err = audit.Verify(testKeys, path)
	require.NoError(t, err)
	assert.Equal(t, uint64(20), res.LastSeq, "an open checkpoint, 5 records, a close checkpoint")
	assert.Equal(t, 15, res.Calls)
}

func TestVerifyFindsTampering(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.jsonl")
	s, err := openFile(path)
	require.NoError(t, err)
	writeN(t, s, 1, 6)
	require.NoError(t, s.Close(context.Background()))
	// genesis, open checkpoint, six records (lines 3 to 8), close
	// checkpoint, and a trailing ""
	lines := readLines(t, path)
	require.Len(t, lines, 10)

	cases := []struct {
		name   string
		edit   func([]string) []string
		line   int
		kind   string
		reason string
	}{
		{"altered", func(l []string) []string {
			l[4] = strings.Replace(l[4], `"subject":"alice"`, `"subject":"mallory"`, 1)
			return l
		}, 5, audit.ProblemAltered, "MAC mismatch at seq 5"},
		{"removed", func(l []string) []string { return append(l[:4:4], l[5:]...) }, 5, audit.ProblemGap, "records 5 are missing"},
		{"reordered", func(l []string) []string { l[3], l[4] = l[4], l[3]; return l }, 4, audit.ProblemGap, "seq 5 follows seq 3"},
		{"duplicated", func(l []string) []string { return append(l[:5:5], l[4:]...) }, 6, audit.ProblemOrder, "seq 5 follows seq 5"},
		{"torn", func(l []string) []string { l[8] = l[8][:40]; return l }, 9, audit.ProblemTorn, "truncated"},
		{"cut mid-file", func(l []string) []string { l[5] = l[5][:40] + "\n"; return l }, 6, audit.ProblemMalformed, "not a sealed"},
		{"outcome rewritten", func(l []string) []string {
			l[2] = strings.Replace(l[2], `"outcome":"ok"`, `"outcome":"denied_scope"`, 1)
			return l
		}, 3, audit.ProblemAltered, "altered"},
		{"garbage", func(l []string) []string { l[6] = "hello\n"; return l }, 7, audit.ProblemMalformed, "not a sealed"},
		{"head cut", func(l []string) []string { return l[3:] }, 1, audit.ProblemHeadTruncated, "starts at seq 4"},
		{"genesis spliced in", func(l []string) []string { return append(l[:5:5], l[0:]...) }, 6, audit.ProblemOrder, "genesis line (seq 1) in the middle"},
		{"key id stripped, re-hashed with SHA-256", func(l []string) []string {
			l[2] = strings.Replace(l[2], `,"kid":"k1"`, ``, 1)
			return l
		}, 3, audit.ProblemUnauthenticated, "no key id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name+".jsonl")
			writeLines(t, p, tc.edit(append([]string(nil), lines...)))
			_, err := audit.Verify(testKeys, p)
			var ve *audit.VerifyError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, p, ve.File)
			assert.Equal(t, tc.line, ve.Line, err.Error())
			assert.Equal(t, tc.kind, ve.Kind, err.Error())
			assert.Contains(t, ve.Reason, tc.reason)
		})
	}

	// A different key does not verify any record.
	other := mustKeyring(audit.Key{ID: "k1", Secret: bytes.Repeat([]byte("x"), 32)})
	res, err := audit.Verify(other, path)
	require.ErrorContains(t, err, "MAC mismatch at seq 1")
	assert.Len(t, res.Problems, 9)
	// An unkeyed check refuses a keyed log.
	_, err = audit.VerifyWith(audit.VerifyConfig{InsecureNoKey: true}, path)
	require.ErrorContains(t, err, "give the keyring")
	_, err = audit.VerifyWith(audit.VerifyConfig{}, path)
	require.ErrorContains(t, err, "no key given")
}

func TestRotationContinuesTheChain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	s, err := openFile(path, audit.WithMaxBytes(2000))
	require.NoError(t, err)
	writeN(t, s, 1, 40)
	require.NoError(t, s.Close(context.Background()))
	rot, err := audit.RotatedFiles(path)
	require.NoError(t, err)
	require.Greater(t, len(rot), 3)
	assert.Equal(t, filepath.Join(filepath.Dir(path), "audit.000001.jsonl"), rot[0])
	res, err := audit.Verify(testKeys, append(rot, path)...)
	require.NoError(t, err)
	assert.Equal(t, 40, res.Calls)
	assert.Equal(t, uint64(1), res.FirstSeq)

	// A file left out breaks the chain at the next file's first line.
	_, err = audit.Verify(testKeys, append(append([]string{}, rot[0]), rot[2:]...)...)
	var ve *audit.VerifyError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, rot[2], ve.File)
	assert.Equal(t, 1, ve.Line)

	// Reopening with an empty active file resumes from the newest rotated file.
	require.NoError(t, os.Truncate(path, 0))
	s, err = openFile(path, audit.WithMaxBytes(2000))
	require.NoError(t, err)
	writeN(t, s, 100, 1)
	require.NoError(t, s.Close(context.Background()))
	rot, _ = audit.RotatedFiles(path)
	_, err = audit.Verify(testKeys, append(rot, path)...)
	require.NoError(t, err)
}

func TestOpenRecoversATornLastLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	s, err := openFile(path)
	require.NoError(t, err)
	writeN(t, s, 1, 3)
	require.NoError(t, s.Close(context.Background()))
	whole, err := os.ReadFile(path)
	require.NoError(t, err)
	n := bytes.Count(whole, []byte("\n")) // genesis, checkpoint, 3 records, checkpoint
	torn := append(bytes.Clone(whole), []byte(`{"id":"00000000000000000000000000000004","time":"2026-05`)...)
	require.NoError(t, os.WriteFile(path, torn, 0o600))

	_, err = audit.Verify(testKeys, path)
	require.ErrorContains(t, err, fmt.Sprintf(":%d: truncated", n+1))

	var logged syncBuffer
	s, err = openFile(path, audit.WithFileLogger(newJSONLogger(&logged)))
	require.NoError(t, err)
	rc := s.Recovered()
	assert.Equal(t, n+1, rc.TornLine)
	assert.Equal(t, int64(len(torn)-len(whole)), rc.TornBytes)
	assert.Equal(t, uint64(n), rc.LastSeq)
	assert.Contains(t, logged.String(), "torn last line")
	writeN(t, s, 4, 2)
	require.NoError(t, s.Close(context.Background()))
	res, err := audit.Verify(testKeys, path)
	require.NoError(t, err)
	assert.Equal(t, uint64(n+5), res.LastSeq, "recovery line, open checkpoint, 2 records, close checkpoint")
	require.Len(t, res.Recoveries, 1)
	assert.Equal(t, rc.TornBytes, res.Recoveries[0].CutBytes)
}

func TestOpenRefusesABrokenChain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	s, err := openFile(path)
	require.NoError(t, err)
	writeN(t, s, 1, 3)
	require.NoError(t, s.Close(context.Background()))
	lines := readLines(t, path)
	lines[3] = strings.Replace(lines[3], "alice", "eve", 1)
	writeLines(t, path, lines)
	_, err = openFile(path)
	require.ErrorContains(t, err, "audit.jsonl:4")
	require.ErrorContains(t, err, "refusing to append")

	// Nor does it append to a file whose head was cut, or that was
	// sealed with a key it lacks.
	lines = readLines(t, path)
	writeLines(t, path, lines[2:3])
	_, err = openFile(path)
	require.ErrorContains(t, err, "audit.jsonl:1: the log starts at seq 3, which is not a genesis line")
	require.NoError(t, os.Remove(path))
	s, err = openFile(path)
	require.NoError(t, err)
	require.NoError(t, s.Close(context.Background()))
	_, err = audit.Open(path, audit.WithKeyring(mustKeyring(audit.Key{ID: "k2", Secret: testSecret})))
	require.ErrorContains(t, err, `sealed with key "k1", which is not in the keyring [k2]`)
}

func TestFileChangedUnderTheServerFailsClosed(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(path string) error
		want   string
	}{
		{"deleted", os.Remove, "removed"},
		{"replaced", func(p string) error {
			if err := os.Rename(p, p+".old"); err != nil {
				return err
			}
			return os.WriteFile(p, nil, 0o600)
		}, "replaced"},
		{"appended to", func(p string) error {
			f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			_, err = f.WriteString("{\"forged\":true}\n")
			return errorsJoin(err, f.Close())
		}, "modified"},
		{"truncated", func(p string) error { return os.Truncate(p, 10) }, "modified"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.jsonl")
			s, err := openFile(path, audit.WithSyncInterval(time.Hour))
			require.NoError(t, err)
			defer s.Close(context.Background())
			writeN(t, s, 1, 2)
			require.NoError(t, tc.change(path))
			// Flush checks the file now; writes check it at most once a
			// second.
			require.ErrorContains(t, s.Flush(context.Background()), tc.want)
			err = s.Write(context.Background(), rec(3))
			require.ErrorContains(t, err, tc.want, "every later write fails")
		})
	}
}

func errorsJoin(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func TestFileSinkConcurrentWritersSyncEach(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	s, err := openFile(path, audit.WithSyncEachRecord(), audit.WithMaxBytes(50_000))
	require.NoError(t, err)
	var wg sync.WaitGroup
	for g := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			writeN(t, s, g*100, 25)
		}()
	}
	wg.Wait()
	require.NoError(t, s.Close(context.Background()))
	rot, _ := audit.RotatedFiles(path)
	res, err := audit.Verify(testKeys, append(rot, path)...)
	require.NoError(t, err)
	assert.Equal(t, 500, res.Calls)
}
