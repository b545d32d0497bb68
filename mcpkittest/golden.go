package mcpkittest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest/surfacediff"
)

// Surface renders the tool surface of srv as indented JSON, sorted by name:
// what a reviewer diffs when a tool changes (surfacediff reads it back).
func Surface(srv *mcpkit.Server) ([]byte, error) {
	s, err := surfacediff.FromServer(srv)
	if err != nil {
		return nil, err
	}
	return s.Marshal()
}

func checkPolicyGolden(t testing.TB, e *env) {
	if e.opts.PolicyFile == "" {
		t.Skip("Config.PolicyFile is not set")
	}
	md := PolicyMarkdown(e.server(t))
	if len(e.opts.PolicyNotes) > 0 {
		// Rules that live outside the tool policies (who may approve)
		// belong in the same document the team reviews.
		md = append(md, "\n## Also\n\n"...)
		for _, n := range e.opts.PolicyNotes {
			md = append(md, "- "+n+"\n"...)
		}
	}
	changes, err := changesSection(e.opts)
	if err != nil {
		t.Fatalf("read the change log: %v", err)
	}
	md = append(md, changes...)
	if e.opts.Update {
		if why, refused := surfaceUpdateRefused(t, e); refused {
			t.Errorf("%s not updated: %s", e.opts.PolicyFile, why)
			return
		}
	}
	golden(t, e.opts.PolicyFile, md, e.opts.Update)
}

// golden compares got with the file at path, or rewrites it when update is
// set.
func golden(t testing.TB, path string, got []byte, update bool) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatalf("update %s: %v", path, err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("update %s: %v", path, err)
		}
		t.Logf("updated %s: review the diff before committing", path)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v (run the test with -update to create it)", path, err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s is out of date: %s\nthe tool surface changed; run the test with -update, review the diff and commit it", path, firstDiff(want, got))
	}
}

// firstDiff describes the first line where want and got differ.
func firstDiff(want, got []byte) string {
	wl := strings.Split(string(want), "\n")
	gl := strings.Split(string(got), "\n")
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\n  file: %q\n  code: %q", i+1, w, g)
		}
	}
	return "files differ"
}
