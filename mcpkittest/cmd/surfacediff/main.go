// Command surfacediff classifies the changes between two versions of a
// server's tool surface file (the testdata/surface.json mcpkittest writes):
//
//	git show main:testdata/surface.json > /tmp/reviewed.json
//	go run github.com/mcpkit-go/mcpkit/mcpkittest/cmd/surfacediff /tmp/reviewed.json testdata/surface.json
//
// It prints one line per change, most severe first; -json prints the
// machine-readable report and -markdown a summary to paste into a pull
// request. "-" reads a file from standard input.
//
// Exit status: 0 when nothing changed or every change is additive, 3 when
// the most severe change is breaking for clients, 4 when one needs a
// security review, 2 on a usage error or a file that cannot be read.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/mcpkit-go/mcpkit/mcpkittest/surfacediff"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("surfacediff", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	asMarkdown := fs.Bool("markdown", false, "print a markdown summary for a pull request")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: surfacediff [-json | -markdown] OLD NEW")
		fmt.Fprintln(stderr, "OLD and NEW are surface files written by mcpkittest; - reads standard input.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 2 || (*asJSON && *asMarkdown) {
		fs.Usage()
		return 2
	}
	if fs.Arg(0) == "-" && fs.Arg(1) == "-" {
		fmt.Fprintln(stderr, "surfacediff: only one of OLD and NEW can be standard input")
		return 2
	}
	var surfaces [2]*surfacediff.Surface
	for i, name := range fs.Args() {
		s, err := load(name, stdin)
		if err != nil {
			fmt.Fprintf(stderr, "surfacediff: %s: %v\n", name, err)
			return 2
		}
		surfaces[i] = s
	}
	rep := surfacediff.Compare(surfaces[0], surfaces[1])
	switch {
	case *asJSON:
		b, err := rep.JSON()
		if err != nil {
			fmt.Fprintf(stderr, "surfacediff: %v\n", err)
			return 2
		}
		_, _ = stdout.Write(b)
	case *asMarkdown:
		fmt.Fprint(stdout, rep.Markdown())
	case rep.Empty():
		fmt.Fprintln(stdout, "no change to the tool surface")
	default:
		fmt.Fprintln(stdout, rep.String())
	}
	switch rep.Highest() {
	case surfacediff.SecurityReview:
		return 4
	case surfacediff.Breaking:
		return 3
	}
	return 0
}

func load(name string, stdin io.Reader) (*surfacediff.Surface, error) {
	var b []byte
	var err error
	if name == "-" {
		b, err = io.ReadAll(stdin)
	} else {
		b, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, err
	}
	s, err := surfacediff.Parse(b)
	if errors.Is(err, surfacediff.ErrFormat) {
		return nil, fmt.Errorf("%w (is it a surface file written by mcpkittest?)", err)
	}
	return s, err
}
