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
	s, err := audit.Open(path)
	require.NoError(t, err)
	r := rec(1)
	require.NoError(t, s.Write(context.Background(), r))
	assert.Equal(t, uint64(1), r.Seq)
	assert.Equal(t, audit.GenesisHash, r.PrevHash)
	assert.Len(t, r.Hash, 64)
	writeN(t, s, 2, 9)
	require.NoError(t, s.Close(context.Background()))
	assert.ErrorIs(t, s.Write(context.Background(), rec(99)), audit.ErrClosed)

	res, err := audit.Verify(path)
	require.NoError(t, err)
	assert.Equal(t, 10, res.Records)
	assert.Equal(t, uint64(10), res.LastSeq)

	line := readLines(t, path)[0]
	assert.True(t, strings.HasPrefix(line, `{"id":"`), line)
	assert.Contains(t, line, `"time":"2026-05-01T12:00:00.000000001Z"`)
	assert.Contains(t, line, `"seq":1,"prev_hash":"`+audit.GenesisHash+`","hash":"`+r.Hash+`"}`)

	// Reopening resumes the chain.
	s, err = audit.Open(path)
	require.NoError(t, err)
	assert.Equal(t, uint64(10), s.Recovered().LastSeq)
	writeN(t, s, 11, 5)
	require.NoError(t, s.Close(context.Background()))
	res, err = audit.Verify(path)
	require.NoError(t, err)
	assert.Equal(t, uint64(15), res.LastSeq)
}

func TestVerifyFindsTampering(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.jsonl")
	s, err := audit.Open(path)
	require.NoError(t, err)
	writeN(t, s, 1, 6)
	require.NoError(t, s.Close(context.Background()))
	lines := readLines(t, path) // six lines and a trailing ""

	cases := []struct {
		name   string
		edit   func([]string) []string
		line   int
		reason string
	}{
		{"altered", func(l []string) []string {
			l[2] = strings.Replace(l[2], `"subject":"alice"`, `"subject":"mallory"`, 1)
			return l
		}, 3, "altered"},
		{"removed", func(l []string) []string { return append(l[:2:2], l[3:]...) }, 3, "removed"},
		{"reordered", func(l []string) []string { l[1], l[2] = l[2], l[1]; return l }, 2, "seq"},
		{"duplicated", func(l []string) []string { return append(l[:3:3], l[2:]...) }, 4, "seq"},
		{"truncated", func(l []string) []string { l[5] = l[5][:40]; return l }, 6, "truncated"},
		{"hash rewritten", func(l []string) []string {
			l[0] = strings.Replace(l[0], `"outcome":"ok"`, `"outcome":"denied_scope"`, 1)
			return l
		}, 1, "altered"},
		{"garbage", func(l []string) []string { l[4] = "hello\n"; return l }, 5, "not a sealed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name+".jsonl")
			writeLines(t, p, tc.edit(append([]string(nil), lines...)))
			_, err := audit.Verify(p)
			var ve *audit.VerifyError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, p, ve.File)
			assert.Equal(t, tc.line, ve.Line, err.Error())
			assert.Contains(t, ve.Reason, tc.reason)
		})
	}
}

func TestRotationContinuesTheChain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	s, err := audit.Open(path, audit.WithMaxBytes(2000))
	require.NoError(t, err)
	writeN(t, s, 1, 40)
	require.NoError(t, s.Close(context.Background()))
	rot, err := audit.RotatedFiles(path)
	require.NoError(t, err)
	require.Greater(t, len(rot), 3)
	assert.Equal(t, filepath.Join(filepath.Dir(path), "audit.000001.jsonl"), rot[0])
	res, err := audit.Verify(append(rot, path)...)
	require.NoError(t, err)
	assert.Equal(t, 40, res.Records)
	assert.Equal(t, uint64(1), res.FirstSeq)

	// A file left out breaks the chain at the next file's first line.
	_, err = audit.Verify(append(append([]string{}, rot[0]), rot[2:]...)...)
	var ve *audit.VerifyError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, rot[2], ve.File)
	assert.Equal(t, 1, ve.Line)

	// Reopening with an empty active file resumes from the newest rotated file.
	require.NoError(t, os.Truncate(path, 0))
	s, err = audit.Open(path, audit.WithMaxBytes(2000))
	require.NoError(t, err)
	writeN(t, s, 100, 1)
	require.NoError(t, s.Close(context.Background()))
	rot, _ = audit.RotatedFiles(path)
	_, err = audit.Verify(append(rot, path)...)
	require.NoError(t, err)
}

func TestOpenRecoversATornLastLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	s, err := audit.Open(path)
	require.NoError(t, err)
	writeN(t, s, 1, 3)
	require.NoError(t, s.Close(context.Background()))
	whole, err := os.ReadFile(path)
	require.NoError(t, err)
	torn := append(bytes.Clone(whole), []byte(`{"id":"00000000000000000000000000000004","time":"2026-05`)...)
	require.NoError(t, os.WriteFile(path, torn, 0o600))

	_, err = audit.Verify(path)
	require.ErrorContains(t, err, ":4: truncated")

	var logged syncBuffer
	s, err = audit.Open(path, audit.WithFileLogger(newJSONLogger(&logged)))
	require.NoError(t, err)
	rc := s.Recovered()
	assert.Equal(t, 4, rc.TornLine)
	assert.Equal(t, int64(len(torn)-len(whole)), rc.TornBytes)
	assert.Equal(t, uint64(3), rc.LastSeq)
	assert.Contains(t, logged.String(), "torn last line")
	writeN(t, s, 4, 2)
	require.NoError(t, s.Close(context.Background()))
	res, err := audit.Verify(path)
	require.NoError(t, err)
	assert.Equal(t, uint64(5), res.LastSeq)
}

func TestOpenRefusesABrokenChain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	s, err := audit.Open(path)
	require.NoError(t, err)
	writeN(t, s, 1, 3)
	require.NoError(t, s.Close(context.Background()))
	lines := readLines(t, path)
	lines[1] = strings.Replace(lines[1], "alice", "eve", 1)
	writeLines(t, path, lines)
	_, err = audit.Open(path)
	require.ErrorContains(t, err, "audit.jsonl:2")
	require.ErrorContains(t, err, "refusing to append")
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
			s, err := audit.Open(path, audit.WithSyncInterval(time.Hour))
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
	s, err := audit.Open(path, audit.WithSyncEachRecord(), audit.WithMaxBytes(50_000))
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
	res, err := audit.Verify(append(rot, path)...)
	require.NoError(t, err)
	assert.Equal(t, 500, res.Records)
}
