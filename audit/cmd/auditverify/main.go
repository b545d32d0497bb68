// Command auditverify checks an mcpkit audit log: every record's MAC, the
// genesis line at its head, the chain from record to record and file to
// file, and, given a witness's checkpoints, that nothing was cut from its
// end up to the last checkpoint.
//
//	auditverify [-keys FILE | -key-env VAR] [-witness FILE] [-rotated] FILE...
//
// Give the files of one log oldest first (rotated files, then the active
// file), or the active file alone with -rotated. The keyring (the format
// audit.ParseKeyring reads: kid:secret lines, oldest first) comes from
// -keys, else from the variable named by -key-env (default
// MCPKIT_AUDIT_KEY). Every problem is printed with its file, line, kind
// and the seqs of the records concerned. With -witness, every log the
// witness holds checkpoints of (signed with the keyring) must be among the
// files given (else missing_log), and the log given must be covered by at
// least one checkpoint (else unwitnessed): "0 checkpoints" is never OK.
// A witness shared by a fleet keeps the replicas apart: a log answers for
// the witness's logs of its own instance only, and -instance ID requires
// every line to be of that replica.
//
//	auditverify [-keys FILE | -key-env VAR] [-witness FILE] [-summary] [-json] -dir DIR
//
// verifies every log of a fleet's directory (DIR alone as the argument
// does too): each *.jsonl file with its rotated files is one chain
// (audit.VerifyDir). It prints one line per instance (OK or FAIL, records,
// calls by outcome, seqs, files; with -summary calls by tool and outcome
// too), each problem with its instance, and a total. With -witness, a log
// the witness holds that no chain is fails (missing_log, naming its
// instance), as do two chains of one instance (duplicate_instance). -json
// prints the report (audit.DirReport, or audit.VerifyResult for one log)
// as JSON instead.
//
// A recovery line (a torn last line the server cut after a crash) is
// printed as a note on stdout with the size and SHA-256 of what was cut;
// it is not a failure.
//
// Exit codes: 0 the log is intact; 1 a problem was found (or a file could
// not be read); 2 a usage error or no usable key.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mcpkit-go/mcpkit/audit"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("auditverify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyFile := fs.String("keys", "", "keyring `FILE` (kid:secret lines, oldest first; mode 0600)")
	keyEnv := fs.String("key-env", audit.EnvKey, "environment `VAR` holding the keyring, when -keys is not given")
	witness := fs.String("witness", "", "witness `FILE` of checkpoints (JSON lines): detects records cut from the end")
	rotated := fs.Bool("rotated", false, "verify the rotated files of the active FILE too, oldest first")
	partial := fs.Bool("partial", false, "accept a log whose oldest file given is not file 1 (older files archived)")
	instance := fs.String("instance", "", "the instance `ID` that must have written the log: lines of another instance are foreign")
	noKey := fs.Bool("insecure-no-key", false, "verify an unkeyed log (written with WithInsecureNoKey): detects accidents, not rewrites")
	dir := fs.String("dir", "", "verify every log in `DIR` (a fleet's audit/{instance}.jsonl files, with their rotated files), per instance")
	summary := fs.Bool("summary", false, "with -dir, also print each instance's final records by tool and outcome")
	asJSON := fs.Bool("json", false, "print the report as JSON on stdout (problems included) instead of text")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: auditverify [-keys FILE | -key-env VAR] [-witness FILE] [-rotated] FILE...   (the files of one log, oldest first)")
		fmt.Fprintln(stderr, "       auditverify [-keys FILE | -key-env VAR] [-witness FILE] [-summary] [-json] -dir DIR   (or DIR alone: every log in it, per instance)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *dir == "" && fs.NArg() == 1 && !*rotated {
		if fi, err := os.Stat(fs.Arg(0)); err == nil && fi.IsDir() {
			*dir = fs.Arg(0)
		}
	} else if *dir != "" && fs.NArg() > 0 {
		fmt.Fprintln(stderr, "auditverify: -dir takes no FILE arguments")
		fs.Usage()
		return 2
	}
	if *dir != "" && (*rotated || *instance != "") {
		fmt.Fprintln(stderr, "auditverify: -rotated and -instance are for one log; -dir finds each log's rotated files and instance")
		return 2
	}
	if *dir == "" && (fs.NArg() == 0 || (*rotated && fs.NArg() != 1)) {
		fs.Usage()
		return 2
	}
	opts := audit.VerifyConfig{InsecureNoKey: *noKey, Partial: *partial, Instance: *instance}
	if !*noKey {
		keys, err := loadKeys(*keyFile, *keyEnv)
		if err != nil {
			fmt.Fprintln(stderr, "auditverify:", err)
			return 2
		}
		opts.Keys = keys
	}
	if *witness != "" {
		cps, err := audit.ReadCheckpoints(*witness)
		if err != nil {
			fmt.Fprintln(stderr, "auditverify: FAIL:", err)
			return 1
		}
		opts.Checkpoints, opts.Witnessed = cps, true
	}
	if *dir != "" {
		return runDir(*dir, opts, *witness != "", *summary, *asJSON, stdout, stderr)
	}
	files := fs.Args()
	if *rotated {
		rot, err := audit.RotatedFiles(files[0])
		if err != nil {
			fmt.Fprintln(stderr, "auditverify: FAIL:", err)
			return 1
		}
		files = append(rot, files[0])
	}
	res, err := audit.VerifyWith(opts, files...)
	var ve *audit.VerifyError
	if err != nil && !errors.As(err, &ve) {
		fmt.Fprintln(stderr, "auditverify: FAIL:", err)
		return 1
	}
	if *asJSON {
		return printJSON(stdout, stderr, res, len(res.Problems) == 0)
	}
	for _, p := range res.Problems {
		fmt.Fprintf(stderr, "auditverify: FAIL: %s:%d: [%s] %s\n", p.File, p.Line, p.Kind, p.Reason)
	}
	for _, r := range res.Recoveries {
		fmt.Fprintf(stdout, "auditverify: note: %s:%d: [recovery] seq %d: the server cut a torn last line (line %d, %d bytes, sha256 %s) at a restart after a crash\n",
			r.File, r.Line, r.Seq, r.CutLine, r.CutBytes, r.CutSHA256)
	}
	keyed := "keys " + strings.Join(keysOf(opts.Keys), ",")
	if opts.Keys == nil {
		keyed = "UNKEYED (SHA-256 only: a rewrite of the whole file is not detected)"
	}
	wit := "no witness given: records cut from the end cannot be detected"
	if *witness != "" {
		wit = fmt.Sprintf("witness: %d checkpoints, up to seq %d", res.Checkpoints, res.LastWitnessed)
	}
	if len(res.Problems) > 0 {
		fmt.Fprintf(stderr, "auditverify: FAIL: %d problems in %d records (seq %d..%d); %s; %s\n",
			len(res.Problems), res.Records, res.FirstSeq, res.LastSeq, keyed, wit)
		return 1
	}
	fmt.Fprintf(stdout, "auditverify: OK: %d records (%d calls), seq %d..%d, log %s, last hash %s; %s; %s\n",
		res.Records, res.Calls, res.FirstSeq, res.LastSeq, res.Log, res.LastHash, keyed, wit)
	return 0
}

func loadKeys(file, env string) (*audit.Keyring, error) {
	if file != "" {
		return audit.ReadKeyFile(file)
	}
	if env == "" || os.Getenv(env) == "" {
		return nil, fmt.Errorf("no key: give the log's keyring with -keys FILE or in $%s (-key-env), or -insecure-no-key for an unkeyed log", env)
	}
	return audit.KeyringFromEnv(env)
}

func keysOf(k *audit.Keyring) []string {
	if k == nil {
		return nil
	}
	return k.IDs()
}
