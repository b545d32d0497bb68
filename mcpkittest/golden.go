package mcpkittest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mcpkit-go/mcpkit/flags"
	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// surfaceTool is one tool in the golden surface file.
type surfaceTool struct {
	Name         string          `json:"name"`
	Title        string          `json:"title,omitempty"`
	Description  string          `json:"description"`
	Policy       surfacePolicy   `json:"policy"`
	Annotations  json.RawMessage `json:"annotations"`
	InputSchema  json.RawMessage `json:"input_schema"`
	OutputSchema json.RawMessage `json:"output_schema,omitempty"`
}

type surfacePolicy struct {
	Risk       string   `json:"risk"`
	Scopes     []string `json:"scopes"`
	Public     bool     `json:"public"`
	Approval   string   `json:"approval"`
	FlagKey    string   `json:"flag_key"`
	Redact     []string `json:"redact"`
	Idempotent bool     `json:"idempotent"`
	OpenWorld  bool     `json:"open_world"`
}

// Surface renders the tool surface of srv as indented JSON, sorted by name:
// what a reviewer diffs when a tool changes.
func Surface(srv *mcpkit.Server) ([]byte, error) {
	tools := slices.Clone(srv.Tools())
	slices.SortFunc(tools, func(a, b *mcpkit.ToolInfo) int { return strings.Compare(a.Name, b.Name) })
	out := make([]surfaceTool, 0, len(tools))
	for _, t := range tools {
		ann, err := json.Marshal(t.Annotations)
		if err != nil {
			return nil, err
		}
		out = append(out, surfaceTool{
			Name: t.Name, Title: t.Title, Description: t.Description,
			Policy: surfacePolicy{
				Risk: t.Policy.Risk.String(), Scopes: nonNil(t.Policy.Scopes), Public: t.Policy.Public,
				Approval: t.Policy.Approval.String(), FlagKey: flags.FlagKey(t), Redact: nonNil(t.Redact),
				Idempotent: t.Policy.Idempotent, OpenWorld: t.Policy.OpenWorld,
			},
			Annotations: ann, InputSchema: t.InputSchema, OutputSchema: t.OutputSchema,
		})
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func checkSurfaceGolden(t testing.TB, e *env) {
	if e.opts.SurfaceFile == "" {
		t.Skip("Options.SurfaceFile is not set")
	}
	got, err := Surface(e.server(t))
	if err != nil {
		t.Fatalf("render surface: %v", err)
	}
	golden(t, e.opts.SurfaceFile, got, e.opts.Update)
}

func checkPolicyGolden(t testing.TB, e *env) {
	if e.opts.PolicyFile == "" {
		t.Skip("Options.PolicyFile is not set")
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
