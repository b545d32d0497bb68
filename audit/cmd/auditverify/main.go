// Command auditverify checks the hash chain of mcpkit audit files.
//
//	go run ./audit/cmd/auditverify FILE...
//
// Give the files of one chain oldest first (rotated files, then the active
// file). It exits 0 when the chain is intact, 1 at the first altered,
// removed, reordered or truncated record, printing its file and line, and 2
// on a usage error.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/mcpkit-go/mcpkit/audit"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("auditverify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: auditverify FILE...   (the files of one chain, oldest first)")
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	res, err := audit.Verify(fs.Args()...)
	if err != nil {
		fmt.Fprintln(stderr, "auditverify: FAIL:", err)
		return 1
	}
	fmt.Fprintf(stdout, "auditverify: OK: %d records, seq %d..%d, last hash %s\n", res.Records, res.FirstSeq, res.LastSeq, res.LastHash)
	return 0
}
