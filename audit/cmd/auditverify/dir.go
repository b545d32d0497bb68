package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/mcpkit-go/mcpkit/audit"
)

// runDir verifies every log of a directory and reports per instance, then
// a total. The exit code is 1 when any instance (or the directory) has a
// problem.
func runDir(dir string, opts audit.VerifyConfig, witnessed, summary, asJSON bool, stdout, stderr io.Writer) int {
	rep, err := audit.VerifyDir(context.Background(), dir, opts)
	var ve *audit.VerifyError
	if err != nil && !errors.As(err, &ve) {
		fmt.Fprintln(stderr, "auditverify: FAIL:", err)
		return 1
	}
	if asJSON {
		return printJSON(stdout, stderr, rep, rep.OK())
	}
	for _, s := range rep.Skipped {
		fmt.Fprintf(stdout, "auditverify: note: %s holds witness checkpoints, not a log: skipped\n", s)
	}
	for _, c := range rep.Chains {
		name := c.Instance
		if name == "" {
			name = "(none authentic)"
		}
		files := strings.Join(c.Files, ", ")
		wit := ""
		if witnessed {
			wit = fmt.Sprintf(", %d checkpoints witnessed up to seq %d", c.Checkpoints, c.LastWitnessed)
		}
		for _, p := range c.Problems {
			fmt.Fprintf(stderr, "auditverify: FAIL: instance %s: %s:%d: [%s] %s\n", name, p.File, p.Line, p.Kind, p.Reason)
		}
		for _, r := range c.Recoveries {
			fmt.Fprintf(stdout, "auditverify: note: instance %s: %s:%d: [recovery] seq %d: the server cut a torn last line (line %d, %d bytes, sha256 %s) at a restart after a crash\n",
				name, r.File, r.Line, r.Seq, r.CutLine, r.CutBytes, r.CutSHA256)
		}
		status, out := "OK", stdout
		if len(c.Problems) > 0 {
			status, out = fmt.Sprintf("FAIL (%d problems)", len(c.Problems)), stderr
		}
		fmt.Fprintf(out, "auditverify: instance %s: %s: %d records, %d calls (%s), seq %d..%d, log %s%s; files %s\n",
			name, status, c.Records, c.Counts.Final, outcomes(c.Counts.Outcomes), c.FirstSeq, c.LastSeq, c.Log, wit, files)
		if summary {
			for _, tool := range slices.Sorted(maps.Keys(c.Counts.Tools)) {
				fmt.Fprintf(stdout, "auditverify:   instance %s: tool %s: %s\n", name, tool, outcomes(c.Counts.Tools[tool]))
			}
		}
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(stderr, "auditverify: FAIL: %s: %s:%d: [%s] %s\n", dir, p.File, p.Line, p.Kind, p.Reason)
	}
	keyed := "keys " + strings.Join(keysOf(opts.Keys), ",")
	if opts.Keys == nil {
		keyed = "UNKEYED (SHA-256 only: a rewrite of the whole file is not detected)"
	}
	if !witnessed {
		keyed += "; no witness given: records cut from the end and deleted logs cannot be detected"
	}
	failed := 0
	for _, c := range rep.Chains {
		if len(c.Problems) > 0 {
			failed++
		}
	}
	if !rep.OK() {
		fmt.Fprintf(stderr, "auditverify: FAIL: total: %d instances (%d failed), %d directory problems, %d records, %d calls (%s); %s\n",
			len(rep.Chains), failed, len(rep.Problems), rep.Records, rep.Counts.Final, outcomes(rep.Counts.Outcomes), keyed)
		return 1
	}
	fmt.Fprintf(stdout, "auditverify: OK: total: %d instances, %d records, %d calls (%s); %s\n",
		len(rep.Chains), rep.Records, rep.Counts.Final, outcomes(rep.Counts.Outcomes), keyed)
	return 0
}

// outcomes renders counts by outcome, sorted: "ok 5, tool_error 1".
func outcomes(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		name := k
		if name == "" {
			name = "(no outcome)"
		}
		parts = append(parts, fmt.Sprintf("%s %d", name, m[k]))
	}
	return strings.Join(parts, ", ")
}

// printJSON writes v as indented JSON; the exit code says whether it
// verified.
func printJSON(stdout, stderr io.Writer, v any, ok bool) int {
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintln(stderr, "auditverify: FAIL:", err)
		return 1
	}
	if !ok {
		return 1
	}
	return 0
}
