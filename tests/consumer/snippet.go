package consumer

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// The snippet rule. Every ```go block of README.md and every Go code block
// of a package doc comment compiles, in a module of its own that requires
// this checkout. A block is one of:
//
//   - a complete file: it starts with a package clause (after comments)
//     and compiles as it is, imports included;
//   - declarations (types, funcs, vars, consts): compiled at package level;
//   - statements: compiled as the body of a func() error, so a fragment may
//     `return err`; every name its top-level statements declare is used
//     after it, so `x, err := f()` alone is fine;
//   - one expression (a Policy literal, say): compiled as `_ = expr`.
//
// Fragments (all but complete files) get two things for free: the imports
// of the packages they name (the table below: mcpkit, mcp, transport,
// audit, flags, approval, serve, otlp, pgstate, context, http, ...), and the names
// declared in testdata/prelude.go (ctx, srv, impl, mux, auditor, store,
// registerTools, newServer, ...), which the docs use without declaring. A
// fragment must not declare a prelude name at package level. Anything
// else a fragment uses it declares itself, or it becomes a complete file or
// a testable example (example_test.go) that the doc points at.
//
// README blocks marked <!-- consumer: FILE --> are files of the consumer
// module that TestConsumerServer builds and runs; this check leaves them to
// it. A doc comment code block that is not Go (a shell command, a diagram)
// is recognised by not parsing as Go and not looking like it (no :=, func,
// or pkg.Name( ); one that looks like Go but does not parse fails.

// importTable maps the package names a fragment may use unqualified by an
// import to their paths.
var importTable = map[string]string{
	"approval":    "github.com/mcpkit-go/mcpkit/approval",
	"audit":       "github.com/mcpkit-go/mcpkit/audit",
	"flags":       "github.com/mcpkit-go/mcpkit/flags",
	"flagdfile":   "github.com/mcpkit-go/mcpkit/flags/flagdfile",
	"mcpkit":      "github.com/mcpkit-go/mcpkit/mcpkit",
	"mcpkittest":  "github.com/mcpkit-go/mcpkit/mcpkittest",
	"ratelimit":   "github.com/mcpkit-go/mcpkit/ratelimit",
	"serve":       "github.com/mcpkit-go/mcpkit/serve",
	"transport":   "github.com/mcpkit-go/mcpkit/transport",
	"otlp":        "github.com/mcpkit-go/mcpkit/serve/otlp",
	"pgstate":     "github.com/mcpkit-go/mcpkit/pgstate",
	"pgxpool":     "github.com/jackc/pgx/v5/pgxpool",
	"mcp":         "github.com/modelcontextprotocol/go-sdk/mcp",
	"openfeature": "github.com/open-feature/go-sdk/openfeature",
	"isolated":    "github.com/open-feature/go-sdk/openfeature/isolated",
	"context":     "context",
	"errors":      "errors",
	"flag":        "flag",
	"fmt":         "fmt",
	"http":        "net/http",
	"io":          "io",
	"json":        "encoding/json",
	"os":          "os",
	"slog":        "log/slog",
	"strings":     "strings",
	"testing":     "testing",
	"time":        "time",
}

// Kind is how a block is compiled.
type Kind int

const (
	// Text is a doc comment code block that is not Go.
	Text Kind = iota
	// File is a complete Go file.
	File
	// Decls is a list of package-level declarations.
	Decls
	// Stmts is a list of statements (or one expression).
	Stmts
)

func (k Kind) String() string {
	return [...]string{"text", "file", "declarations", "statements"}[k]
}

// goLike is what makes a block that does not parse count as broken Go
// rather than as a shell command or a diagram.
var goLike = regexp.MustCompile(`:=|\bfunc\b|^package |\b[a-z][A-Za-z0-9_]*\.[A-Z][A-Za-z0-9_]*[({]`)

// Wrap turns a block into the source of one Go file of package snippet
// (or the block's own package for a complete file) whose lines map back
// to the block's lines with //line directives, so a compile error reads
// README.md:35:2. lenient is for doc comments: a block that neither
// parses nor looks like Go is Text, not an error.
func Wrap(b Block, lenient bool) (Kind, string, error) {
	text := b.Text
	at := fmt.Sprintf("//line %s:%d\n", b.File, b.Line)
	fset := token.NewFileSet()

	if _, err := parser.ParseFile(fset, "", text, parser.ParseComments); err == nil {
		return File, at + text, nil
	} else if startsWithPackage(text) {
		return File, "", fmt.Errorf("%s: block %d starts with a package clause but does not parse: %v", b.Name(), b.N, err)
	}

	const head = "package snippet\n"
	if f, err := parser.ParseFile(fset, "", head+text, 0); err == nil {
		return Decls, head + imports(f) + at + text, nil
	}

	const open, end = "func _() error {\n", "\n}\n"
	body := text
	f, err := parser.ParseFile(fset, "", head+open+body+end, 0)
	if err != nil {
		if _, eerr := parser.ParseExpr(strings.TrimSpace(text)); eerr == nil {
			body = "_ = " + text
			f, err = parser.ParseFile(fset, "", head+open+body+end, 0)
		}
	}
	if err == nil && lonelyValue(f) {
		body = "_ = " + text
		f, err = parser.ParseFile(fset, "", head+open+body+end, 0)
	}
	if err != nil {
		if lenient && !goLike.MatchString(text) {
			return Text, "", nil
		}
		return Stmts, "", fmt.Errorf("%s: block %d parses neither as a file, declarations, statements nor an expression: %v", b.Name(), b.N, firstError(err))
	}
	var uses strings.Builder
	for _, name := range declared(f) {
		fmt.Fprintf(&uses, "\t_ = %s\n", name)
	}
	return Stmts, head + imports(f) + open + at + body + "//line snippet-wrapper.go:1\n" + uses.String() + "\treturn nil" + end, nil
}

// lonelyValue reports whether the wrapper func's body is one expression
// that is not a call or a receive: a value shown for its shape.
func lonelyValue(f *ast.File) bool {
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Body != nil && len(fd.Body.List) == 1 {
			if es, ok := fd.Body.List[0].(*ast.ExprStmt); ok {
				switch x := es.X.(type) {
				case *ast.CallExpr:
					return false
				case *ast.UnaryExpr:
					return x.Op != token.ARROW
				}
				return true
			}
		}
	}
	return false
}

// PackageNames lists the names src declares at package level.
func PackageNames(src string) ([]string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), "", src, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil {
				names = append(names, d.Name.Name)
			}
		case *ast.GenDecl:
			for _, sp := range d.Specs {
				switch sp := sp.(type) {
				case *ast.TypeSpec:
					names = append(names, sp.Name.Name)
				case *ast.ValueSpec:
					for _, id := range sp.Names {
						names = append(names, id.Name)
					}
				}
			}
		}
	}
	return names, nil
}

// Prelude returns the prelude without the package-level names a fragment
// declares itself (a fragment may define its own version constant), and
// without the imports that leaves unused.
func Prelude(src string, drop []string) (string, error) {
	if len(drop) == 0 {
		return src, nil
	}
	gone := map[string]bool{}
	for _, n := range drop {
		gone[n] = true
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "prelude.go", src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return "", err
	}
	var decls []ast.Decl
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil && gone[d.Name.Name] {
				continue
			}
		case *ast.GenDecl:
			var specs []ast.Spec
			for _, sp := range d.Specs {
				switch sp := sp.(type) {
				case *ast.TypeSpec:
					if gone[sp.Name.Name] {
						continue
					}
				case *ast.ValueSpec:
					if len(sp.Names) == 1 && gone[sp.Names[0].Name] {
						continue
					}
				}
				specs = append(specs, sp)
			}
			if len(specs) == 0 {
				continue
			}
			d.Specs = specs
		}
		decls = append(decls, d)
	}
	f.Decls = decls
	used := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok {
				used[id.Name] = true
			}
		}
		return true
	})
	for _, d := range f.Decls {
		if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.IMPORT {
			var specs []ast.Spec
			for _, sp := range gd.Specs {
				is := sp.(*ast.ImportSpec)
				p := strings.Trim(is.Path.Value, `"`)
				name := p[strings.LastIndex(p, "/")+1:]
				if is.Name != nil {
					name = is.Name.Name
				}
				if used[name] {
					specs = append(specs, sp)
				}
			}
			gd.Specs = specs
		}
	}
	f.Comments = nil // comments would land in the wrong places
	var sb strings.Builder
	if err := printer.Fprint(&sb, fset, f); err != nil {
		return "", err
	}
	return sb.String(), nil
}

func startsWithPackage(text string) bool {
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "//") {
			continue
		}
		return strings.HasPrefix(l, "package ")
	}
	return false
}

func firstError(err error) error {
	var list interface{ Unwrap() []error }
	if errors.As(err, &list) && len(list.Unwrap()) > 0 {
		return list.Unwrap()[0]
	}
	return err
}

// imports is the import declaration for the table's packages that f names
// without declaring them, ending in a newline (empty if none).
func imports(f *ast.File) string {
	seen := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok && id.Obj == nil && importTable[id.Name] != "" {
				seen[id.Name] = true
			}
		}
		return true
	})
	if len(seen) == 0 {
		return ""
	}
	names := slices.Sorted(maps.Keys(seen))
	var sb strings.Builder
	sb.WriteString("import (\n")
	for _, n := range names {
		fmt.Fprintf(&sb, "\t%s %q\n", n, importTable[n])
	}
	sb.WriteString(")\n")
	return sb.String()
}

// declared lists the names the top-level statements of the wrapper func
// in f declare (x := ..., var x ...), in order, without duplicates or _.
func declared(f *ast.File) []string {
	var (
		names []string
		seen  = map[string]bool{"_": true}
	)
	add := func(id *ast.Ident) {
		if !seen[id.Name] {
			seen[id.Name] = true
			names = append(names, id.Name)
		}
	}
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Body == nil {
			continue
		}
		for _, s := range fd.Body.List {
			switch s := s.(type) {
			case *ast.AssignStmt:
				if s.Tok == token.DEFINE {
					for _, e := range s.Lhs {
						if id, ok := e.(*ast.Ident); ok {
							add(id)
						}
					}
				}
			case *ast.DeclStmt:
				if gd, ok := s.Decl.(*ast.GenDecl); ok && gd.Tok == token.VAR {
					for _, sp := range gd.Specs {
						for _, id := range sp.(*ast.ValueSpec).Names {
							add(id)
						}
					}
				}
			}
		}
	}
	return names
}
