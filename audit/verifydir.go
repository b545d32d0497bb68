package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// DirReport is what VerifyDir found in a directory of logs: one chain per
// replica, and the problems of the directory as a whole.
type DirReport struct {
	Dir string `json:"dir"`
	// Chains are the logs found, by instance then file name.
	Chains []ChainReport `json:"chains,omitempty"`
	// Records, Calls and Counts add up the chains'.
	Records int          `json:"records"`
	Calls   int          `json:"calls"`
	Counts  RecordCounts `json:"counts"`
	// Problems are those of the directory as a whole: a log the witness
	// holds that no chain is (missing_log), two chains of one instance
	// (duplicate_instance). Each chain's own are in its report (foreign
	// lines, a misnamed or empty file among them).
	Problems []VerifyError `json:"problems,omitempty"`
	// Skipped lists the .jsonl files that are not logs (a witness file
	// kept beside them).
	Skipped []string `json:"skipped,omitempty"`
}

// ChainReport is one log of a directory: its files, oldest first, and
// what VerifyWith found in them.
type ChainReport struct {
	// Instance is the chain's instance: the one its first authentic line
	// (its genesis) says; for a file with no line of a log, the one its
	// name says ({instance}.jsonl); empty when neither is known.
	Instance string   `json:"instance"`
	Files    []string `json:"files,omitempty"`
	VerifyResult
}

// OK reports whether every chain verified and the directory has no
// problem of its own.
func (r *DirReport) OK() bool {
	if len(r.Problems) > 0 {
		return false
	}
	for _, c := range r.Chains {
		if len(c.Problems) > 0 {
			return false
		}
	}
	return true
}

// Instances returns the chain reports by instance id (a chain without an
// authentic instance under ""; with two chains of one instance, the last).
func (r *DirReport) Instances() map[string]*ChainReport {
	m := make(map[string]*ChainReport, len(r.Chains))
	for i := range r.Chains {
		m[r.Chains[i].Instance] = &r.Chains[i]
	}
	return m
}

// rotatedFile matches a rotated file of a log: NAME.000001.jsonl.
var rotatedFile = regexp.MustCompile(`^(.+)\.([0-9]{6,})(\.jsonl)$`)

// VerifyDir verifies every log in dir, the directory a fleet's replicas
// write their files to (audit/{instance}.jsonl): each *.jsonl file with
// its rotated files (NAME.000001.jsonl, ...) is one chain, verified as
// VerifyWith verifies it, with opts (Instance must be empty: each chain is
// held to its own). With a witness's checkpoints, every log the witness
// holds, signed with the keyring, must be one of the chains, else
// missing_log names it and its instance; each chain answers for its own
// log only. Two chains of one instance are a problem (duplicate_instance),
// unless one names the other as the log it replaced. A .jsonl file that
// holds witness checkpoints is skipped. It returns the first problem as
// a *VerifyError, and an I/O error as itself.
func VerifyDir(ctx context.Context, dir string, opts VerifyConfig) (DirReport, error) {
	rep := DirReport{Dir: dir}
	if opts.Instance != "" {
		return rep, fmt.Errorf("audit: verify %s: VerifyConfig.Instance is for one log; a directory holds one per instance", dir)
	}
	if opts.Keys == nil && !opts.InsecureNoKey {
		return rep, fmt.Errorf("audit: verify %s: no key given: a keyed log is verified with its keyring (VerifyConfig.Keys); an unkeyed one only with InsecureNoKey", dir)
	}
	chains, skipped, err := dirChains(dir)
	if err != nil {
		return rep, err
	}
	rep.Skipped = skipped
	if len(chains) == 0 {
		return rep, fmt.Errorf("audit: verify %s: no log (*.jsonl) in the directory", dir)
	}
	preds := map[string]bool{}            // logs named as predecessors by a chain (or reported as an emptied file's)
	placed := map[string][]*placedLines{} // lines of an instance found as foreign in other chains
	present := map[string]bool{}
	for _, files := range chains {
		if err := ctx.Err(); err != nil {
			return rep, fmt.Errorf("audit: verify %s: %w", dir, err)
		}
		v := newVerifier(opts)
		v.dir = true
		if err := v.files(files); err != nil {
			return rep, err
		}
		last := files[len(files)-1]
		named := namedInstance(last)
		var c ChainReport
		if !v.started {
			// No line of a log: the witness is asked about the instance
			// the name says, not held against every log it has.
			c = ChainReport{Files: files, Instance: named, VerifyResult: v.res}
			c.Problems = emptyLog(c.Problems, last, named, opts, preds)
		} else {
			v.witness(last)
			c = ChainReport{Files: files, Instance: v.inst, VerifyResult: v.res}
			if n := len(v.res.Instances); n > 0 && c.Counts.Instances[""] > 0 {
				// A log begun before instance ids: its genesis has a
				// random id per process; the id it was continued under
				// names it.
				c.Instance = v.res.Instances[n-1]
			}
			if p, bad := misnamed(c, last, named); bad {
				c.Problems = append(c.Problems, p)
			}
		}
		for id, pl := range v.placed {
			placed[id] = append(placed[id], pl)
		}
		for id := range v.preds {
			preds[id] = true
		}
		if c.Log != "" {
			present[c.Log] = true
		}
		rep.Chains = append(rep.Chains, c)
	}
	sort.SliceStable(rep.Chains, func(i, j int) bool { return rep.Chains[i].Instance < rep.Chains[j].Instance })
	for i := range rep.Chains {
		c := &rep.Chains[i]
		// A predecessor kept in the directory is not missing.
		kept := c.Problems[:0]
		for _, p := range c.Problems {
			if p.Kind == ProblemMissingLog && p.Log != "" && present[p.Log] {
				continue
			}
			if p.Instance == "" {
				p.Instance = c.Instance
			}
			kept = append(kept, p)
		}
		c.Problems = kept
		rep.Records += c.Records
		rep.Calls += c.Calls
		rep.Counts.merge(c.Counts)
	}
	rep.duplicates()
	rep.missing(opts, present, preds, placed)
	for _, c := range rep.Chains {
		if len(c.Problems) > 0 {
			return rep, &c.Problems[0]
		}
	}
	if len(rep.Problems) > 0 {
		return rep, &rep.Problems[0]
	}
	return rep, nil
}

// duplicates reports two chains written by one instance, unless one was
// started in place of the other (its genesis names it).
func (r *DirReport) duplicates() {
	first := map[string]int{}
	for i, c := range r.Chains {
		if c.Instance == "" {
			continue
		}
		j, seen := first[c.Instance]
		if !seen {
			first[c.Instance] = i
			continue
		}
		o := r.Chains[j]
		if c.Log != o.Log && (r.names(c, o.Log) || r.names(o, c.Log)) {
			continue
		}
		same := ""
		if c.Log == o.Log {
			same = " (the same log: one is a copy of the other, or two writers continued it)"
		}
		r.Problems = append(r.Problems, VerifyError{File: c.Files[len(c.Files)-1], Line: 1, Kind: ProblemDuplicateInstance, Log: c.Log, Instance: c.Instance,
			Reason: fmt.Sprintf("instance %s wrote two chains, %s (log %s, seq %d..%d) and %s (log %s, seq %d..%d)%s: two replicas ran under one instance id "+
				"(each needs its own), or a replica's log was copied over another's", c.Instance, o.Files[len(o.Files)-1], o.Log, o.FirstSeq, o.LastSeq,
				c.Files[len(c.Files)-1], c.Log, c.FirstSeq, c.LastSeq, same)})
	}
}

// names reports whether chain c's genesis names log as its predecessor.
func (r *DirReport) names(c ChainReport, log string) bool {
	for _, id := range c.Predecessors {
		if id == log {
			return true
		}
	}
	return false
}

// missing reports every log the witness holds, signed with the keyring,
// that no chain of the directory is (and no chain names as the log it
// replaced: that one reported it at its genesis line).
func (r *DirReport) missing(opts VerifyConfig, present, preds map[string]bool, placed map[string][]*placedLines) {
	other := map[string]*otherLog{}
	var order []string
	for i, c := range opts.Checkpoints {
		if present[c.Log] || c.verify(opts.Keys) != nil {
			continue
		}
		o := other[c.Log]
		if o == nil {
			o = &otherLog{instances: map[string]bool{}}
			other[c.Log] = o
			order = append(order, c.Log)
		}
		o.instances[c.Instance] = true
		o.n++
		if c.Seq >= o.last.Seq {
			o.last, o.line = c, i+1
		}
	}
	for _, id := range order {
		if preds[id] {
			continue
		}
		p := missingLog(other[id], id, "the logs in "+r.Dir)
		if pls := placed[p.Instance]; len(pls) > 0 {
			var at []string
			for _, pl := range pls {
				at = append(at, fmt.Sprintf("%d lines in %s (lines %d..%d)", pl.n, pl.file, pl.first, pl.last))
			}
			p.Reason += fmt.Sprintf("; lines of instance %s were found as foreign lines of another chain: %s", p.Instance, strings.Join(at, ", "))
		}
		r.Problems = append(r.Problems, p)
	}
}

// namedInstance is the instance a log file's name says
// ({instance}.jsonl), or "" when the name is not an instance id.
func namedInstance(path string) string {
	id := strings.TrimSuffix(filepath.Base(path), ".jsonl")
	if CheckInstance(id) != nil {
		return ""
	}
	return id
}

// misnamed reports a chain whose file is named for another instance than
// the one its genesis says: files swapped or renamed. Not judged: a name
// that is not an instance id, the instance's id with a suffix (a log kept
// as replica-b.old.jsonl beside its successor), a log older than instance ids (its records
// carry none, its genesis a random id per process), and a log under its
// default instance (DefaultInstance of its path, not named for it).
func misnamed(c ChainReport, file, named string) (VerifyError, bool) {
	if named == "" || c.Instance == "" || c.Instance == named || strings.HasPrefix(named, c.Instance+".") || c.Counts.Instances[""] > 0 {
		return VerifyError{}, false
	}
	if abs, err := filepath.Abs(file); err == nil && DefaultInstance(abs) == c.Instance {
		return VerifyError{}, false
	}
	return VerifyError{File: file, Line: 1, Kind: ProblemMisnamed, Seq: c.FirstSeq, Log: c.Log, Instance: c.Instance,
		Reason: fmt.Sprintf("file %s holds instance %s's chain (log %s, seq %d..%d), not instance %s's its name says: the files were renamed or swapped",
			file, c.Instance, c.Log, c.FirstSeq, c.LastSeq, named)}, true
}

// emptyLog replaces the head_truncated problems of a chain with no line
// at all by one empty_log problem, saying what the witness holds of the
// instance the file's name says; the logs it names are reported there,
// not again as missing_log.
func emptyLog(problems []VerifyError, file, named string, opts VerifyConfig, reported map[string]bool) []VerifyError {
	kept := problems[:0]
	for _, p := range problems {
		if p.Kind != ProblemHeadTruncated {
			kept = append(kept, p)
		}
	}
	e := VerifyError{File: file, Line: 1, Kind: ProblemEmptyLog, Instance: named}
	who := "instance " + named
	if named == "" {
		who = "the instance of this file (its name is not an instance id)"
	}
	var logs []string
	n := 0
	for _, c := range opts.Checkpoints {
		if named == "" || c.Instance != named || c.verify(opts.Keys) != nil {
			continue
		}
		if !reported[c.Log] {
			reported[c.Log] = true
			logs = append(logs, c.Log)
		}
		n++
		if c.Seq > e.To {
			e.To, e.Seq, e.Log = c.Seq, c.Seq, c.Log
		}
	}
	switch {
	case n > 0:
		e.From = 1
		e.Reason = fmt.Sprintf("%s holds no line of a log (emptied?): the witness holds %d checkpoints of %s (log %s), up to seq %d: records %s are gone",
			file, n, who, strings.Join(logs, ", "), e.To, seqRange(1, e.To))
	case len(opts.Checkpoints) > 0:
		e.Reason = fmt.Sprintf("%s holds no line of a log (emptied?), and the witness holds no checkpoint of %s", file, who)
	default:
		e.Reason = fmt.Sprintf("%s holds no line of a log (emptied?); without a witness, what it held is unknown", file)
	}
	return append(kept, e)
}

// dirChains lists the logs of dir: for each, its files oldest first.
func dirChains(dir string) ([][]string, []string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("audit: verify: %w", err)
	}
	type file struct {
		path string
		n    int // rotation index; active files sort last
	}
	byLog := map[string][]file{}
	var skipped []string
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasSuffix(name, ".jsonl") {
			continue
		}
		path := filepath.Join(dir, name)
		if isWitnessFile(path) {
			skipped = append(skipped, path)
			continue
		}
		base, n := name, int(^uint(0)>>1)
		if m := rotatedFile.FindStringSubmatch(name); m != nil {
			if i, err := strconv.Atoi(m[2]); err == nil && i > 0 {
				base, n = m[1]+m[3], i
			}
		}
		byLog[base] = append(byLog[base], file{path, n})
	}
	names := make([]string, 0, len(byLog))
	for base := range byLog {
		names = append(names, base)
	}
	sort.Strings(names)
	out := make([][]string, 0, len(names))
	for _, base := range names {
		fs := byLog[base]
		sort.Slice(fs, func(i, j int) bool { return fs[i].n < fs[j].n })
		paths := make([]string, len(fs))
		for i, f := range fs {
			paths[i] = f.path
		}
		out = append(out, paths)
	}
	return out, skipped, nil
}

// isWitnessFile reports whether path holds witness checkpoints (what
// FileWitness writes) rather than a log: its first line is a checkpoint,
// without the prev_hash every line of a log has.
func isWitnessFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 4096)
	line, err := br.ReadSlice('\n')
	if err != nil && len(line) == 0 {
		return false
	}
	if bytes.Contains(line, []byte(`"prev_hash":`)) {
		return false
	}
	var c Checkpoint
	return json.Unmarshal(bytes.TrimSpace(line), &c) == nil && c.Log != "" && c.Seq > 0
}
