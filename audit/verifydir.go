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
	// (duplicate_instance). Each chain's own are in its report.
	Problems []VerifyError `json:"problems,omitempty"`
	// Skipped lists the .jsonl files that are not logs (a witness file
	// kept beside them).
	Skipped []string `json:"skipped,omitempty"`
}

// ChainReport is one log of a directory: its files, oldest first, and
// what VerifyWith found in them.
type ChainReport struct {
	// Instance is the instance that wrote the chain last (the newest id
	// among its authentic lines); empty when none is authentic.
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
	preds := map[string]bool{} // logs named as predecessors by a chain
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
		v.witness(files[len(files)-1])
		c := ChainReport{Files: files, VerifyResult: v.res}
		if n := len(v.res.Instances); n > 0 {
			c.Instance = v.res.Instances[n-1]
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
	rep.missing(opts, present, preds)
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
func (r *DirReport) missing(opts VerifyConfig, present, preds map[string]bool) {
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
		r.Problems = append(r.Problems, missingLog(other[id], id, "the logs in "+r.Dir))
	}
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
