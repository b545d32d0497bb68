package consumer

import (
	"bytes"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

var compiledBy = regexp.MustCompile(`// (\S+_test\.go) compiles this function`)

// A README block that says "// X_test.go compiles this function" shows a
// function that the named test file has too, where an example runs it
// with its output checked: the two must be the same code (comments
// aside), so the README shows what the example proves.
func TestReadmeFunctionsMatchExamples(t *testing.T) {
	root, err := CheckoutRoot(".")
	require.NoError(t, err)
	blocks, err := MarkdownGoBlocks(root, "README.md")
	require.NoError(t, err)
	checked := 0
	for _, b := range blocks {
		m := compiledBy.FindStringSubmatch(b.Text)
		if m == nil {
			continue
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, "", "package p\n"+b.Text, 0)
		require.NoError(t, err, "%s: block %d", b.Name(), b.N)
		var fn *ast.FuncDecl
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fn == nil {
				fn = fd
			}
		}
		require.NotNil(t, fn, "%s: block %d says %s compiles this function but holds none", b.Name(), b.N, m[1])
		efset := token.NewFileSet()
		ef, err := parser.ParseFile(efset, filepath.Join(root, m[1]), nil, 0)
		require.NoError(t, err, "%s: block %d names %s", b.Name(), b.N, m[1])
		var twin *ast.FuncDecl
		for _, d := range ef.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name == fn.Name.Name && fd.Recv == nil {
				twin = fd
			}
		}
		require.NotNil(t, twin, "%s: block %d: %s has no func %s", b.Name(), b.N, m[1], fn.Name.Name)
		require.Equal(t, source(t, efset, twin), source(t, fset, fn),
			"%s: block %d: func %s differs from the one in %s (want the README to show the example's code)", b.Name(), b.N, fn.Name.Name, m[1])
		checked++
	}
	require.Positive(t, checked, "no README block names the test file that compiles it; the approval section used to")
}

// source prints a declaration without its comments.
func source(t *testing.T, fset *token.FileSet, fn *ast.FuncDecl) string {
	fn.Doc = nil
	var buf bytes.Buffer
	require.NoError(t, format.Node(&buf, fset, fn))
	return buf.String()
}
