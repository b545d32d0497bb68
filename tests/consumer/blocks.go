package consumer

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// A Block is one code block of a Markdown file or a Go doc comment.
type Block struct {
	// File is the path of the file it comes from, relative to the
	// checkout, and Line the 1-based line of its first code line.
	File string
	Line int
	// N numbers the Go blocks of File from 1, for messages.
	N int
	// Marker is what the HTML comment on the line before the fence says
	// (<!-- consumer: main.go --> gives Kind "consumer", Arg "main.go");
	// empty without one. Doc comments have none.
	Kind, Arg string
	// Text is the code, with the fence's (or the comment's) indentation
	// removed, ending in a newline.
	Text string
}

// Name identifies the block in test names and failures: "README.md:35".
func (b Block) Name() string { return fmt.Sprintf("%s:%d", b.File, b.Line) }

var (
	fenceRE  = regexp.MustCompile("^([ \t]*)(```+)[ \t]*([A-Za-z0-9_+-]*)[ \t]*$")
	markerRE = regexp.MustCompile(`^[ \t]*<!--[ \t]*([a-z]+):[ \t]*(.*?)[ \t]*-->[ \t]*$`)
)

// MarkdownGoBlocks returns the ```go blocks of the Markdown file at
// root/rel, with the marker comment on the line before each fence, if any.
// An unclosed fence is an error.
func MarkdownGoBlocks(root, rel string) ([]Block, error) {
	data, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		return nil, err
	}
	var (
		blocks []Block
		lines  []string
		sc     = bufio.NewScanner(strings.NewReader(string(data)))
	)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	for i := 0; i < len(lines); i++ {
		m := fenceRE.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		indent, fence, lang := m[1], m[2], m[3]
		start := i + 1
		end := -1
		for j := start; j < len(lines); j++ {
			if c := fenceRE.FindStringSubmatch(lines[j]); c != nil && c[2] == fence && c[3] == "" {
				end = j
				break
			}
		}
		if end < 0 {
			return nil, fmt.Errorf("%s:%d: code fence %s%s is never closed", rel, i+1, fence, lang)
		}
		if lang == "go" {
			b := Block{File: rel, Line: start + 1, N: len(blocks) + 1}
			if i > 0 {
				if mm := markerRE.FindStringSubmatch(lines[i-1]); mm != nil {
					b.Kind, b.Arg = mm[1], mm[2]
				}
			}
			var sb strings.Builder
			for _, l := range lines[start:end] {
				sb.WriteString(strings.TrimPrefix(l, indent))
				sb.WriteByte('\n')
			}
			b.Text = sb.String()
			blocks = append(blocks, b)
		}
		i = end
	}
	return blocks, sc.Err()
}

// DocCodeBlocks returns the code blocks (lines indented by a tab after //)
// of the package doc comment of every non-test .go file under root/dir,
// skipping testdata and directories that start with . or _. Whether a
// block is Go is decided later (see Classify).
func DocCodeBlocks(root, dir string) ([]Block, error) {
	var blocks []Block
	err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != filepath.Join(root, dir) && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		bs, err := fileDocBlocks(path, filepath.ToSlash(rel))
		blocks = append(blocks, bs...)
		return err
	})
	return blocks, err
}

// fileDocBlocks extracts the code blocks of one file's package comment.
func fileDocBlocks(path, rel string) ([]Block, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		return nil, err
	}
	if f.Doc == nil {
		return nil, nil
	}
	return commentBlocks(fset, f.Doc, rel), nil
}

// commentBlocks groups the runs of "//\t" lines of a comment (blank "//"
// lines inside a run belong to it) into blocks.
func commentBlocks(fset *token.FileSet, cg *ast.CommentGroup, rel string) []Block {
	var (
		blocks []Block
		cur    []string
		first  int
	)
	flush := func() {
		for len(cur) > 0 && cur[len(cur)-1] == "" {
			cur = cur[:len(cur)-1]
		}
		if len(cur) > 0 {
			blocks = append(blocks, Block{File: rel, Line: first, Text: strings.Join(cur, "\n") + "\n"})
		}
		cur = nil
	}
	for _, c := range cg.List {
		line := fset.Position(c.Pos()).Line
		switch {
		case strings.HasPrefix(c.Text, "//\t"):
			if cur == nil {
				first = line
			}
			cur = append(cur, strings.TrimPrefix(c.Text, "//\t"))
		case strings.TrimSpace(c.Text) == "//" && cur != nil:
			cur = append(cur, "")
		default:
			flush()
		}
	}
	flush()
	return blocks
}
