package consumer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The fixture has an unmarked ```go block, a marked one inside a list item
// (indented fence), a marked one at the margin and a ```sh block.
func TestMarkdownGoBlocksFixture(t *testing.T) {
	blocks, err := MarkdownGoBlocks(".", "testdata/README.md")
	require.NoError(t, err)
	require.Len(t, blocks, 3, "three ```go blocks; the ```sh block is not one")
	require.Equal(t, "", blocks[0].Kind)
	require.Equal(t, "testdata/README.md:6", blocks[0].Name())

	files, err := ConsumerFiles(blocks)
	require.NoError(t, err)
	require.Len(t, files, 2)
	require.Equal(t, "main.go", files[0].Arg)
	require.Equal(t, "testdata/README.md:14", files[0].Name(), "the line of the block's first code line")
	require.True(t, strings.HasPrefix(files[0].Text, "// Command tickets serves"), "the list item's indentation is removed:\n%s", files[0].Text)
	require.Contains(t, files[0].Text, "\n\tserve.Main(serve.Config{\n", "tabs inside the block are kept")
	require.Equal(t, "tools.go", files[1].Arg)
	require.True(t, strings.HasPrefix(files[1].Text, "package main\n"))
	require.True(t, strings.HasSuffix(files[1].Text, "}\n"))
}

func TestMarkdownGoBlocksErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) string {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "x.md"), []byte(s), 0o644))
		return "x.md"
	}
	_, err := MarkdownGoBlocks(dir, write("text\n```go\npackage main\n"))
	require.ErrorContains(t, err, "x.md:2: code fence ```go is never closed")

	blocks, err := MarkdownGoBlocks(dir, write("<!-- consumer: main.go -->\n```go\npackage main\n```\n<!-- consumer: main.go -->\n```go\npackage main\n```\n"))
	require.NoError(t, err)
	_, err = ConsumerFiles(blocks)
	require.ErrorContains(t, err, "x.md:7: <!-- consumer: main.go --> again (first at x.md:3)")

	blocks, err = MarkdownGoBlocks(dir, write("<!-- consumer: ../evil.go -->\n```go\npackage main\n```\n"))
	require.NoError(t, err)
	_, err = ConsumerFiles(blocks)
	require.ErrorContains(t, err, "want a file name such as main.go")
}

// Doc comment code blocks: the tab-indented runs of the package comment,
// blank comment lines inside a run included, with their first line.
func TestDocCodeBlocks(t *testing.T) {
	dir := t.TempDir()
	src := "// Package p does things.\n//\n//\tx := 1\n//\n//\ty := x\n//\n// Prose.\n//\n//\tgo run ./cmd\npackage p\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "doc.go"), []byte(src), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "doc_test.go"), []byte(src), 0o644))
	blocks, err := DocCodeBlocks(dir, ".")
	require.NoError(t, err)
	require.Len(t, blocks, 2, "test files are not package docs")
	require.Equal(t, Block{File: "doc.go", Line: 3, Text: "x := 1\n\ny := x\n"}, blocks[0])
	require.Equal(t, Block{File: "doc.go", Line: 9, Text: "go run ./cmd\n"}, blocks[1])
}

func TestWrap(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		lenient    bool
		kind       Kind
		contains   []string
		err        string
	}{
		{name: "complete file", text: "package main\n\nfunc main() {}\n", kind: File,
			contains: []string{"//line README.md:10\npackage main\n"}},
		{name: "declarations get imports", text: "func f() *mcpkit.Server { return nil }\n", kind: Decls,
			contains: []string{"\tmcpkit \"github.com/mcpkit-go/mcpkit/mcpkit\"\n", "//line README.md:10\nfunc f()"}},
		{name: "statements use what they declare", text: "keys, err := audit.KeyringFromEnv(audit.EnvKey)\nif err != nil {\n\treturn err\n}\n", kind: Stmts,
			contains: []string{"func _() error {\n//line README.md:10\nkeys, err :=", "\t_ = keys\n\t_ = err\n\treturn nil\n}"}},
		{name: "a value alone is assigned to _", text: "mcpkit.Policy{Risk: mcpkit.Write}\n", kind: Stmts,
			contains: []string{"_ = mcpkit.Policy{"}},
		{name: "a local name is not a package", text: "flags := 1\n_ = flags.X\n", kind: Stmts,
			contains: []string{"func _()"}},
		{name: "a shell command in a doc", text: "go run ./cmd/x -keys FILE\n", lenient: true, kind: Text},
		{name: "a diagram in a doc", text: "client -> transport -> mcp.Server\n", lenient: true, kind: Text},
		{name: "broken Go in a doc", text: "x := f(\nif err != nil { ... }\n", lenient: true, err: "README.md:10: block 3 parses neither"},
		{name: "anything that does not parse in a README go block", text: "go run ./cmd/x\n", err: "parses neither"},
		{name: "a broken complete file", text: "package main\nfunc {\n", err: "starts with a package clause but does not parse"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kind, src, err := Wrap(Block{File: "README.md", Line: 10, N: 3, Text: tc.text}, tc.lenient)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.kind, kind)
			for _, c := range tc.contains {
				require.Contains(t, src, c)
			}
			if strings.Contains(tc.text, "flags :=") {
				require.NotContains(t, src, "mcpkit/flags")
			}
		})
	}
}

// A fragment that declares a prelude name keeps its own: the prelude's
// goes, with the imports only it used.
func TestPreludeDrop(t *testing.T) {
	prelude, err := os.ReadFile(filepath.Join("testdata", "prelude.go"))
	require.NoError(t, err)
	names, err := PackageNames("package snippet\nconst version = \"1\"\nfunc newServer() {}\nvar tel int\n")
	require.NoError(t, err)
	require.Equal(t, []string{"version", "newServer", "tel"}, names)
	out, err := Prelude(string(prelude), names)
	require.NoError(t, err)
	require.NotContains(t, out, "const version")
	require.NotContains(t, out, "func newServer")
	require.NotContains(t, out, "otel/trace", "tel was the only user of the trace import")
	require.Contains(t, out, "func registerTools")
	require.Contains(t, out, "\"github.com/mcpkit-go/mcpkit/mcpkit\"")
}
