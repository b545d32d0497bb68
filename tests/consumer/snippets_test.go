package consumer

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// snippet is one block to compile and the package directory it gets.
type snippet struct {
	Block
	kind Kind
	// src is the generated file, path its place in the module (package
	// directory pkg).
	src, path, pkg string
}

// collectSnippets wraps every Go block of README.md (strictly: a ```go
// block must be Go) and of the package docs of the library's modules (the
// root and serve/otlp; examples/ and tests/ are other modules whose code
// compiles anyway). Blocks that cannot be wrapped are reported on t.
func collectSnippets(t *testing.T, root string) (snips []snippet, consumer int) {
	t.Helper()
	readme, err := MarkdownGoBlocks(root, "README.md")
	if err != nil {
		t.Fatal(err)
	}
	docs, err := DocCodeBlocks(root, ".")
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	add := func(b Block, lenient bool) {
		if b.Kind == "consumer" {
			consumer++
			return
		}
		if !lenient && b.Kind != "" {
			t.Errorf("%s: block %d: unknown marker <!-- %s: %s -->; the only marker is <!-- consumer: FILE -->", b.Name(), b.N, b.Kind, b.Arg)
			return
		}
		if lenient {
			b.N = n[b.File] + 1
		}
		kind, src, err := Wrap(b, lenient)
		if err != nil {
			t.Error(err)
			return
		}
		if kind == Text {
			return
		}
		n[b.File]++
		snips = append(snips, place(snippet{Block: b, kind: kind, src: src}))
	}
	for _, b := range readme {
		add(b, false)
	}
	for _, b := range docs {
		if strings.HasPrefix(b.File, "examples/") || strings.HasPrefix(b.File, "tests/") {
			continue
		}
		add(b, true)
	}
	return snips, consumer
}

var nonIdent = regexp.MustCompile(`[^a-z0-9]+`)

// pkgDir names a block's package after its file and line, so that the go
// command's messages name the block too: readme_md_l35.
func pkgDir(b Block) string {
	return strings.Trim(nonIdent.ReplaceAllString(strings.ToLower(b.File), "_"), "_") + "_l" + strconv.Itoa(b.Line)
}

// TestSnippets compiles every Go block of README.md and of the library's
// package docs, each as its own package of one temporary module (see
// snippet.go for the rule), with one go build. A failure names the file,
// the line and the block.
func TestSnippets(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the docs' snippets with the go command; skipped with -short")
	}
	root, err := CheckoutRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	snips, consumer := collectSnippets(t, root)
	t.Logf("%d Go blocks to compile; %d consumer blocks left to TestConsumerServer", len(snips), consumer)
	readme, docs := 0, 0
	for _, s := range snips {
		if s.File == "README.md" {
			readme++
		} else {
			docs++
		}
	}
	// The check cannot pass by finding nothing.
	if readme < 5 || docs < 5 {
		t.Fatalf("found %d README and %d package doc Go blocks; the extractor is broken", readme, docs)
	}
	prelude, err := os.ReadFile(filepath.Join("testdata", "prelude.go"))
	if err != nil {
		t.Fatal(err)
	}

	// A canary built with the rest: it must fail, named by its file and line.
	canary := Block{File: "canary.md", Line: 7, N: 1, Text: "srv2 := mcpkit.MustNewServer(impl)\nnotDeclared(srv2)\n"}
	kind, src, err := Wrap(canary, false)
	if err != nil {
		t.Fatal(err)
	}
	canarySnip := place(snippet{Block: canary, kind: kind, src: src})
	all := append(snips, canarySnip)

	ctx := context.Background()
	m, err := NewModule(ctx, t.TempDir(), root, "example.com/snippets")
	if err != nil {
		t.Fatal(err)
	}
	preludes := map[string]bool{}
	for _, s := range all {
		if err := m.Write(s.path, s.src); err != nil {
			t.Fatal(err)
		}
		if s.kind == File || preludes[s.pkg] {
			continue
		}
		preludes[s.pkg] = true
		own, err := PackageNames(s.src)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Prelude(string(prelude), own)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Write(filepath.Join(s.pkg, "prelude.go"), p); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	if _, err := m.Go(ctx, "mod", "tidy"); err != nil {
		t.Fatalf("the snippets' module does not resolve (a block imports a package no mcpkit module provides?): %v", err)
	}
	tidied := time.Now()
	// -e: every error of every block, not the first ten of a package.
	out, buildErr := m.Go(ctx, "build", "-gcflags=-e", "./...")
	t.Logf("go mod tidy %v, go build %v", tidied.Sub(start).Round(time.Millisecond), time.Since(tidied).Round(time.Millisecond))
	failures, rest := attribute(out, all)
	for _, s := range snips {
		t.Run(s.Name(), func(t *testing.T) {
			if msg, ok := failures[s.path]; ok {
				t.Errorf("%s: Go block %d (%s) does not compile:\n%s\nthe block, as compiled (%s):\n%s",
					s.Name(), s.N, s.kind, msg, s.path, s.src)
			}
		})
	}
	want := "canary.md:8: undefined: notDeclared"
	if got := failures[canarySnip.path]; !strings.Contains(got, want) {
		t.Errorf("a broken fragment is not reported as %q but as %q (go build output:\n%s)", want, got, out)
	}
	if buildErr == nil {
		t.Errorf("go build passed with the canary in it")
	}
	if rest != "" {
		t.Errorf("go build reported outside any block:\n%s", rest)
	}
}

// fragmentsPkg is the one package of all statement fragments: they
// declare nothing at package level, so they cannot collide, and one
// package compiles much faster than one each.
const fragmentsPkg = "fragments"

// place gives a snippet its package and file: statements go to
// fragmentsPkg, declarations and complete files to a package of their own.
func place(s snippet) snippet {
	name := pkgDir(s.Block)
	s.pkg = name
	if s.kind == Stmts {
		s.pkg = fragmentsPkg
	}
	s.path = s.pkg + "/" + name + ".go"
	return s
}

var position = regexp.MustCompile(`^(?:\./)?(\S+?):(\d+)(?::\d+)?: `)

// attribute splits go build's output by block: a message is the block's
// whose lines (after //line) or generated file it names, or, in a package
// of one block, that block's. Continuation lines follow their message.
// What names no block is returned as rest.
func attribute(out string, snips []snippet) (map[string]string, string) {
	byPath := map[string]string{}
	var rest strings.Builder
	pkgOwner := map[string]*snippet{}
	count := map[string]int{}
	for i := range snips {
		count[snips[i].pkg]++
		pkgOwner[snips[i].pkg] = &snips[i]
	}
	var cur, last *snippet
	for _, l := range strings.Split(out, "\n") {
		if l == "" {
			continue
		}
		if p, ok := strings.CutPrefix(l, "# example.com/snippets/"); ok {
			cur = nil
			if count[p] == 1 {
				cur = pkgOwner[p]
			}
			last = nil
			continue
		}
		target := cur
		if strings.HasPrefix(l, "\t") && last != nil {
			target = last
		} else if m := position.FindStringSubmatch(l); m != nil {
			n, _ := strconv.Atoi(m[2])
			for i := range snips {
				sn := &snips[i]
				lines := strings.Count(sn.Text, "\n")
				if (m[1] == sn.File && n >= sn.Line && n < sn.Line+lines) || strings.HasSuffix(m[1], sn.path) {
					target = sn
					break
				}
			}
		}
		last = target
		if target == nil {
			rest.WriteString(l + "\n")
			continue
		}
		byPath[target.path] += l + "\n"
	}
	return byPath, rest.String()
}
