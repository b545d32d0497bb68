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
	dir  string
}

// collectSnippets wraps every Go block of README.md (strictly: a ```go
// block must be Go) and of the package docs of the library's modules (the
// root and serve/otlp; examples/ and tests/ are other modules whose code
// compiles anyway). Blocks that cannot be wrapped are reported on t.
func collectSnippets(t *testing.T, root string) (snips []snippet, srcs map[string]string, consumer int) {
	t.Helper()
	readme, err := MarkdownGoBlocks(root, "README.md")
	if err != nil {
		t.Fatal(err)
	}
	docs, err := DocCodeBlocks(root, ".")
	if err != nil {
		t.Fatal(err)
	}
	srcs = map[string]string{}
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
		dir := pkgDir(b)
		srcs[dir] = src
		snips = append(snips, snippet{Block: b, kind: kind, dir: dir})
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
	return snips, srcs, consumer
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
	snips, srcs, consumer := collectSnippets(t, root)
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
	canaryDir := pkgDir(canary)
	srcs[canaryDir] = src
	all := append(snips, snippet{Block: canary, kind: kind, dir: canaryDir})

	ctx := context.Background()
	m, err := NewModule(ctx, t.TempDir(), root, "example.com/snippets")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		if err := m.Write(filepath.Join(s.dir, "snippet.go"), srcs[s.dir]); err != nil {
			t.Fatal(err)
		}
		if s.kind != File {
			own, err := PackageNames(srcs[s.dir])
			if err != nil {
				t.Fatal(err)
			}
			p, err := Prelude(string(prelude), own)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Write(filepath.Join(s.dir, "prelude.go"), p); err != nil {
				t.Fatal(err)
			}
		}
	}
	start := time.Now()
	if _, err := m.Go(ctx, "mod", "tidy"); err != nil {
		t.Fatalf("the snippets' module does not resolve (a block imports a package no mcpkit module provides?): %v", err)
	}
	tidied := time.Now()
	out, buildErr := m.Go(ctx, "build", "./...")
	t.Logf("go mod tidy %v, go build %v", tidied.Sub(start).Round(time.Millisecond), time.Since(tidied).Round(time.Millisecond))
	failures := buildFailures(out)
	for _, s := range snips {
		t.Run(s.Name(), func(t *testing.T) {
			if msg, ok := failures["example.com/snippets/"+s.dir]; ok {
				t.Errorf("%s: Go block %d (%s) does not compile:\n%s\nthe block, as compiled (%s):\n%s",
					s.Name(), s.N, s.kind, msg, s.dir+"/snippet.go", srcs[s.dir])
			}
		})
	}
	want := "canary.md:8: undefined: notDeclared"
	if got := failures["example.com/snippets/"+canaryDir]; !strings.Contains(got, want) {
		t.Errorf("a broken fragment is not reported as %q but as %q (go build output:\n%s)", want, got, out)
	}
	if buildErr == nil {
		t.Errorf("go build passed with the canary in it")
	}
	known := map[string]bool{"example.com/snippets/" + canaryDir: true}
	for _, s := range snips {
		known["example.com/snippets/"+s.dir] = true
	}
	for pkg, msg := range failures {
		if !known[pkg] {
			t.Errorf("go build reported outside any block (%q):\n%s", pkg, msg)
		}
	}
}

// buildFailures splits go build's output into the messages of each
// package ("# example.com/snippets/readme_md_l35" and the lines after it);
// lines before any such header are under "".
func buildFailures(out string) map[string]string {
	failures := map[string]string{}
	pkg := ""
	for _, l := range strings.Split(out, "\n") {
		if p, ok := strings.CutPrefix(l, "# "); ok {
			pkg = p
			failures[pkg] = ""
			continue
		}
		if l != "" {
			failures[pkg] += l + "\n"
		}
	}
	return failures
}
