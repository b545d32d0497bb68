package mcpkittest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpkit-go/mcpkit/mcpkittest/surfacediff"
)

// AcceptEnv names the environment variable that acknowledges surface
// changes for an update when Config.Accept is empty:
// MCPKIT_ACCEPT=breaking,security-review.
const AcceptEnv = "MCPKIT_ACCEPT"

// accepted resolves the acknowledged categories: Config.Accept, else the
// environment. An acknowledgement without Update is a mistake in the
// command, reported rather than ignored.
func accepted(o Config) ([]surfacediff.Category, error) {
	if o.Accept != "" && !o.Update {
		return nil, fmt.Errorf("mcpkittest: Config.Accept (%q) is set without Update: an acknowledgement only applies to an update", o.Accept)
	}
	list := o.Accept
	if list == "" {
		list = os.Getenv(AcceptEnv)
	}
	cats, err := surfacediff.ParseCategories(list)
	if err != nil {
		return nil, fmt.Errorf("mcpkittest: Config.Accept or %s: %w", AcceptEnv, err)
	}
	return cats, nil
}

// changeLogPath is Config.ChangeLog, or the surface file's name with
// .changes.json.
func changeLogPath(o Config) string {
	if o.ChangeLog != "" || o.SurfaceFile == "" {
		return o.ChangeLog
	}
	return strings.TrimSuffix(o.SurfaceFile, filepath.Ext(o.SurfaceFile)) + ".changes.json"
}

// checkSurfaceGolden compares the surface with the reviewed file and
// reports the difference classified, most severe first. With Update it
// rewrites the file only when every category beyond additive is
// acknowledged, and records the accepted changes in the change log.
func checkSurfaceGolden(t testing.TB, e *env) {
	if e.opts.SurfaceFile == "" {
		t.Skip("Config.SurfaceFile is not set")
	}
	path := e.opts.SurfaceFile
	acc, err := accepted(e.opts)
	if err != nil {
		t.Fatal(err)
	}
	cur, err := surfacediff.FromServer(e.server(t))
	if err != nil {
		t.Fatalf("render surface: %v", err)
	}
	got, err := cur.Marshal()
	if err != nil {
		t.Fatalf("render surface: %v", err)
	}
	want, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && e.opts.Update:
		// The first review: the whole file is in the change under review.
		writeGolden(t, path, got)
		return
	case err != nil && e.opts.Update:
		t.Fatalf("read %s: %v", path, err)
	case err != nil:
		t.Fatalf("read %s: %v (run the test with -update to create it)", path, err)
	case bytes.Equal(want, got):
		return
	}
	old, err := surfacediff.Parse(want)
	if err != nil {
		t.Fatalf("%s is out of date and cannot be read as a surface file, so the change cannot be classified: %v\n"+
			"if it was edited by hand, restore it from version control; to start a new reviewed baseline, delete it, run the test with -update and have the whole file reviewed", path, err)
	}
	rep := surfacediff.Compare(old, cur)
	if !e.opts.Update {
		t.Errorf("%s", mismatchMessage(t, path, rep))
		return
	}
	if missing := rep.Unaccepted(acc); len(missing) > 0 {
		t.Errorf("%s not updated: the change needs an explicit acknowledgement (%s):\n  %s\n%s",
			path, categoryList(missing, ", "), strings.Join(rep.Lines(), "\n  "), acceptHint(t, rep))
		return
	}
	if !rep.Empty() {
		if err := appendChangeLog(changeLogPath(e.opts), want, got, rep); err != nil {
			t.Fatalf("record the accepted changes: %v", err)
		}
		t.Logf("accepted surface changes (paste into the pull request):\n%s", rep.Markdown())
	}
	writeGolden(t, path, got)
}

// surfaceUpdateRefused reports, for the POLICY.md update, whether the
// surface has changes the update does not acknowledge: POLICY.md must not
// move on while the surface file stays behind.
func surfaceUpdateRefused(t testing.TB, e *env) (string, bool) {
	if e.opts.SurfaceFile == "" {
		return "", false
	}
	acc, err := accepted(e.opts)
	if err != nil {
		return err.Error(), true
	}
	want, err := os.ReadFile(e.opts.SurfaceFile)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false
	}
	if err != nil {
		return err.Error(), true
	}
	old, err := surfacediff.Parse(want)
	if err != nil {
		return fmt.Sprintf("%s cannot be read as a surface file: %v", e.opts.SurfaceFile, err), true
	}
	cur, err := surfacediff.FromServer(e.server(t))
	if err != nil {
		return err.Error(), true
	}
	if missing := surfacediff.Compare(old, cur).Unaccepted(acc); len(missing) > 0 {
		return fmt.Sprintf("the tool surface has unacknowledged changes (%s); see the golden surface check", categoryList(missing, ", ")), true
	}
	return "", false
}

func writeGolden(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatalf("update %s: %v", path, err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatalf("update %s: %v", path, err)
	}
	t.Logf("updated %s: review the diff before committing", path)
}

func mismatchMessage(t testing.TB, path string, rep *surfacediff.Report) string {
	if rep.Empty() {
		return fmt.Sprintf("%s differs from the server only in form (written by another version of mcpkittest?): run the test with -update", path)
	}
	return fmt.Sprintf("%s is out of date: the tool surface changed (%d change(s), most severe: %s):\n  %s\n%s",
		path, len(rep.Changes), rep.Highest(), strings.Join(rep.Lines(), "\n  "), acceptHint(t, rep))
}

// acceptHint says which command accepts the changes in rep.
func acceptHint(t testing.TB, rep *surfacediff.Report) string {
	test, _, _ := strings.Cut(t.Name(), "/")
	if !strings.HasPrefix(test, "Test") {
		test = "TestConformance"
	}
	need := rep.Unaccepted(nil)
	if len(need) == 0 {
		return fmt.Sprintf("all additive: accept with go test -run %s -update, review the diff and commit it", test)
	}
	names := categoryList(need, ",")
	return fmt.Sprintf("after review, accept with go test -run %s -update -accept=%s (or %s=%s): the acknowledgement must name every category beyond additive",
		test, names, AcceptEnv, names)
}

func categoryList(cs []surfacediff.Category, sep string) string {
	var s []string
	for _, c := range cs {
		s = append(s, c.Name())
	}
	return strings.Join(s, sep)
}

// changeLog is the file recording each accepted change of the surface:
// the reviewed history POLICY.md's "Changes since the last reviewed
// version" section is rendered from, so that the section is the same on
// every run until the surface changes again.
type changeLog struct {
	Reviews []review `json:"reviews"`
}

// review is one accepted update.
type review struct {
	// Date is the day of the update, UTC.
	Date string `json:"date"`
	// Categories are the categories of the changes accepted.
	Categories []surfacediff.Category `json:"categories"`
	// From and To are digests of the surface file before and after.
	From    string               `json:"from"`
	To      string               `json:"to"`
	Changes []surfacediff.Change `json:"changes"`
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func readChangeLog(path string) (*changeLog, error) {
	var l changeLog
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &l, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &l, nil
}

func appendChangeLog(path string, from, to []byte, rep *surfacediff.Report) error {
	l, err := readChangeLog(path)
	if err != nil {
		return err
	}
	l.Reviews = append(l.Reviews, review{
		Date: time.Now().UTC().Format(time.DateOnly), Categories: rep.Categories(),
		From: digest(from), To: digest(to), Changes: rep.Changes,
	})
	b, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// changesSection renders the latest accepted review for POLICY.md; empty
// when none was recorded.
func changesSection(o Config) ([]byte, error) {
	path := changeLogPath(o)
	if path == "" {
		return nil, nil
	}
	l, err := readChangeLog(path)
	if err != nil || len(l.Reviews) == 0 {
		return nil, err
	}
	r := l.Reviews[len(l.Reviews)-1]
	var b strings.Builder
	b.WriteString("\n## Changes since the last reviewed version\n\n")
	fmt.Fprintf(&b, "Accepted on %s (%s); recorded in `%s`", r.Date, categoryList(r.Categories, ", "), filepath.ToSlash(path))
	if n := len(l.Reviews) - 1; n > 0 {
		fmt.Fprintf(&b, " with %d earlier review(s)", n)
	}
	b.WriteString(".\n\n")
	for _, c := range r.Changes {
		subject := "`" + c.Tool + "`"
		if c.Entry != "" {
			subject = strings.TrimSuffix(c.Label(), c.Tool) + subject
		}
		fmt.Fprintf(&b, "- %s: %s (%s)\n", subject, c.Detail, c.Category)
	}
	return []byte(b.String()), nil
}
