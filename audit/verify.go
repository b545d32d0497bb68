package audit

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Kinds of problem a verification reports (VerifyError.Kind).
const (
	// ProblemMalformed: a line that is not a sealed record.
	ProblemMalformed = "malformed"
	// ProblemTorn: the last line has no newline (a write cut short).
	ProblemTorn = "torn"
	// ProblemAltered: the record's MAC (or hash) does not match its bytes.
	ProblemAltered = "altered"
	// ProblemUnauthenticated: a record without a key id in a keyed check.
	ProblemUnauthenticated = "unauthenticated"
	// ProblemUnknownKey: a record sealed with a key the verifier lacks.
	ProblemUnknownKey = "unknown_key"
	// ProblemHeadTruncated: records missing before the first one given.
	ProblemHeadTruncated = "head_truncated"
	// ProblemGap: records missing between two records.
	ProblemGap = "gap"
	// ProblemOrder: a seq that repeats or goes back.
	ProblemOrder = "out_of_order"
	// ProblemRelinked: a record whose prev_hash is not the hash before it.
	ProblemRelinked = "relinked"
	// ProblemForeign: a record of another log.
	ProblemForeign = "foreign"
	// ProblemTailTruncated: a witness holds a checkpoint past the end.
	ProblemTailTruncated = "tail_truncated"
	// ProblemWitnessMismatch: the log's record at a witnessed seq is not
	// the one witnessed.
	ProblemWitnessMismatch = "witness_mismatch"
	// ProblemBadCheckpoint: a witness checkpoint whose MAC fails.
	ProblemBadCheckpoint = "bad_checkpoint"
	// ProblemMissingLog: the witness holds checkpoints, signed with the
	// keyring, of a log that is not among the files given (deleted or
	// replaced).
	ProblemMissingLog = "missing_log"
	// ProblemUnwitnessed: a witness was given but holds no checkpoint
	// covering any record of the files given.
	ProblemUnwitnessed = "unwitnessed"
	// ProblemInterleaved: authentic lines of two chains in one file (two
	// writers appended to it: two replicas under one instance id).
	ProblemInterleaved = "interleaved"
	// ProblemDuplicateInstance: two chains of a directory written by one
	// instance id (VerifyDir).
	ProblemDuplicateInstance = "duplicate_instance"
	// ProblemMisnamed: a file of a directory named for one instance
	// ({instance}.jsonl) that holds another instance's chain (VerifyDir).
	ProblemMisnamed = "misnamed"
	// ProblemEmptyLog: a file of a directory with no line of a log; the
	// problem says what the witness holds of the instance its name says
	// (VerifyDir).
	ProblemEmptyLog = "empty_log"
)

// VerifyError is one problem found in a log: where, which records, why.
type VerifyError struct {
	File string `json:"file"`
	Line int    `json:"line"`
	// Kind is one of the Problem* constants.
	Kind string `json:"kind"`
	// Seq is the record's seq, when known.
	Seq uint64 `json:"seq"`
	// From and To are the missing seqs, inclusive, for head_truncated,
	// gap and tail_truncated problems (0 when unknown).
	From uint64 `json:"from"`
	To   uint64 `json:"to"`
	// Log is the log concerned when it is not the one verified (the log
	// a missing_log problem names); Instance the instance it is of, when
	// known.
	Log      string `json:"log"`
	Instance string `json:"instance"`
	Reason   string `json:"reason"`
}

func (e *VerifyError) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason)
}

// VerifyResult summarises a verified log.
type VerifyResult struct {
	// Records counts every line; Calls only the calls' records (not the
	// genesis and checkpoint lines).
	Records  int    `json:"records"`
	Calls    int    `json:"calls"`
	FirstSeq uint64 `json:"first_seq"`
	LastSeq  uint64 `json:"last_seq"`
	LastHash string `json:"last_hash"`
	// Log is the log id of the genesis lines.
	Log string `json:"log"`
	// Keyed is whether the records were checked with a key.
	Keyed bool `json:"keyed"`
	// Checkpoints is how many witness checkpoints of this log were
	// checked; LastWitnessed the highest seq among them.
	Checkpoints   int    `json:"checkpoints"`
	LastWitnessed uint64 `json:"last_witnessed"`
	// Recoveries lists the recovery lines: torn last lines the sink cut
	// at Open after a crash. They are not problems (a crash tears at most
	// one incomplete record), but they are reported.
	Recoveries []VerifyRecovery `json:"recoveries,omitempty"`
	// Predecessors are the logs its genesis lines name as the ones it was
	// started in place of (pred_log).
	Predecessors []string `json:"predecessors,omitempty"`
	// Instances lists the instance ids found in the log's lines, in the
	// order first seen (one, unless the log's writer was renamed; a log
	// older than instance ids has a new one per process in its genesis
	// and checkpoint lines).
	Instances []string `json:"instances,omitempty"`
	// Counts counts the authenticated records of calls, to check that the
	// records add up to the calls made.
	Counts RecordCounts `json:"counts"`
	// Problems lists everything found, in file order then witness checks.
	// Verify's error is the first of them.
	Problems []VerifyError `json:"problems,omitempty"`
}

// RecordCounts counts a log's authenticated call records (lines without a
// kind; records that fail their MAC are not counted).
type RecordCounts struct {
	// Final is the number of final records: one per call (and one per
	// refusal recorded in full, and per refusal summary).
	Final int `json:"final"`
	// Start is the number of write-ahead start records.
	Start int `json:"start"`
	// Outcomes counts the final records by outcome.
	Outcomes map[string]int `json:"outcomes,omitempty"`
	// Tools counts the final records by tool, then outcome.
	Tools map[string]map[string]int `json:"tools,omitempty"`
	// Summarized is the number of refusals counted into summary records
	// (Record.Refusals) rather than recorded one by one; each summary is
	// also one Final record.
	Summarized int `json:"summarized"`
	// Instances counts the records (final and start) by the instance that
	// wrote them; "" for records older than instance ids.
	Instances map[string]int `json:"instances,omitempty"`
}

func (c *RecordCounts) add(p *sealed) {
	if c.Outcomes == nil {
		c.Outcomes, c.Tools, c.Instances = map[string]int{}, map[string]map[string]int{}, map[string]int{}
	}
	c.Instances[p.Instance]++
	if p.Phase == PhaseStart {
		c.Start++
		return
	}
	c.Final++
	c.Outcomes[p.Outcome]++
	t := c.Tools[p.Tool]
	if t == nil {
		t = map[string]int{}
		c.Tools[p.Tool] = t
	}
	t[p.Outcome]++
	if p.Refusals != nil {
		c.Summarized += p.Refusals.Count
	}
}

// merge adds o's counts to c.
func (c *RecordCounts) merge(o RecordCounts) {
	if c.Outcomes == nil {
		c.Outcomes, c.Tools, c.Instances = map[string]int{}, map[string]map[string]int{}, map[string]int{}
	}
	c.Final += o.Final
	c.Start += o.Start
	c.Summarized += o.Summarized
	for k, n := range o.Outcomes {
		c.Outcomes[k] += n
	}
	for k, n := range o.Instances {
		c.Instances[k] += n
	}
	for tool, m := range o.Tools {
		t := c.Tools[tool]
		if t == nil {
			t = map[string]int{}
			c.Tools[tool] = t
		}
		for k, n := range m {
			t[k] += n
		}
	}
}

// VerifyRecovery is a recovery line found in a log.
type VerifyRecovery struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Seq  uint64 `json:"seq"`
	// CutLine is the line number the torn line had; CutBytes and
	// CutSHA256 its size and SHA-256.
	CutLine   int    `json:"cut_line"`
	CutBytes  int64  `json:"cut_bytes"`
	CutSHA256 string `json:"cut_sha256"`
}

// VerifyConfig says how to verify a log.
type VerifyConfig struct {
	// Keys verifies the records' MACs and the checkpoints' signatures.
	// Required unless InsecureNoKey.
	Keys *Keyring
	// InsecureNoKey verifies a log written with WithInsecureNoKey: plain
	// SHA-256, which anyone who can write the file can recompute.
	InsecureNoKey bool
	// Witnessed says a witness was given, even one holding no checkpoint:
	// the log must then be covered by it. Non-empty Checkpoints imply it.
	Witnessed bool
	// Checkpoints are a witness's copies (ReadCheckpoints). Without them,
	// records cut from the end of the log cannot be detected.
	Checkpoints []Checkpoint
	// Partial accepts a log whose first file given is not file 1 (older
	// files archived): it must still start with a genesis line.
	Partial bool
	// Instance, if set, is the instance that must have written the log:
	// a line naming another instance is foreign (a replica's log copied
	// over another's).
	Instance string
}

// maxLine bounds one record line, so that a corrupt file cannot exhaust
// memory.
const maxLine = 64 << 20

// Verify checks, with keys, that the files in the order given (oldest
// rotated file first, the active file last) hold one intact log from its
// genesis. It is VerifyWith(VerifyConfig{Keys: keys}, paths...).
func Verify(keys *Keyring, paths ...string) (VerifyResult, error) {
	return VerifyWith(VerifyConfig{Keys: keys}, paths...)
}

// VerifyWith checks that the files, in the order given (oldest rotated
// file first, the active file last), hold one intact log: every record
// authenticated, starting at the genesis of file 1 (head truncation),
// consecutive (gaps, reordering, replacement), of one log, and — with a
// witness's checkpoints — reaching every checkpoint with the witnessed
// hash (tail truncation). It returns every problem in VerifyResult.Problems
// and the first as a *VerifyError.
func VerifyWith(opts VerifyConfig, paths ...string) (VerifyResult, error) {
	if len(paths) == 0 {
		return VerifyResult{}, errors.New("audit: verify: no files given")
	}
	if opts.Keys == nil && !opts.InsecureNoKey {
		return VerifyResult{}, errors.New("audit: verify: no key given: a keyed log is verified with its keyring (VerifyConfig.Keys); an unkeyed one only with InsecureNoKey")
	}
	v := newVerifier(opts)
	if err := v.files(paths); err != nil {
		return v.res, err
	}
	v.witness(paths[len(paths)-1])
	if len(v.res.Problems) > 0 {
		return v.res, &v.res.Problems[0]
	}
	return v.res, nil
}

func newVerifier(opts VerifyConfig) *verifier {
	v := &verifier{opts: opts, partial: opts.Partial, checkpoints: map[uint64]string{}, recent: map[uint64]string{}}
	v.res.Keyed = opts.Keys != nil
	return v
}

// files verifies the files of one log in order.
func (v *verifier) files(paths []string) error {
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return fmt.Errorf("audit: verify: %w", err)
		}
		err = v.file(p, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("audit: verify: %s: %w", p, err)
		}
	}
	return nil
}

// verifier follows a log line by line and collects its problems. After a
// problem it goes on: every record carries its own MAC, so the records
// after a gap or an altered one are still checked and named.
type verifier struct {
	opts VerifyConfig
	res  VerifyResult
	// The chain so far.
	seq     uint64
	hash    string
	started bool
	// partial accepts a first file that starts later than seq 1 (as the
	// file sink does when it resumes the active file).
	partial bool
	// checkpoints maps the seq of each checkpoint line to its hash.
	checkpoints map[uint64]string
	// lines of the current file, for the tail_truncated location.
	lines int
	// began is the time of the first genesis line.
	began string
	// preds are the predecessors named by genesis lines (reported).
	preds map[string]uint64
	// resuming is set when Open checks the chain it resumes: a
	// predecessor named in it was reported when the log began, and does
	// not stop the server again.
	resuming bool
	// instances are the instance ids of the log's authentic lines;
	// claimed those of lines that failed their MAC.
	instances, claimed map[string]bool
	// recent maps the seqs of the last recentWindow authentic lines to
	// their hashes, and recentQ holds them oldest first: a second line
	// at a seq with another hash and the same prev_hash is a fork, two
	// writers continuing one chain.
	recent      map[uint64]string
	recentQ     []uint64
	interleaved bool
	// dir is set by VerifyDir, which checks the witness's other logs
	// across the directory.
	dir bool
	// inst is the chain's instance (VerifyDir): that of its first
	// authentic line, the genesis; accepted holds it and the ids a
	// renamed writer continued the chain under. An authentic line of
	// another instance that does not continue the chain is foreign:
	// reported and left out of it (placed records the files and lines
	// of each such instance).
	inst     string
	accepted map[string]bool
	placed   map[string]*placedLines
}

// placedLines are the lines of one instance found in another's chain.
type placedLines struct {
	file        string
	first, last int
	n           int
}

// recentWindow bounds the memory of the fork check: two writers of one
// file write close to each other.
const recentWindow = 4096

func (v *verifier) problem(p VerifyError) { v.res.Problems = append(v.res.Problems, p) }

// file verifies one file; an error is an I/O error, not a problem.
func (v *verifier) file(name string, r io.Reader) error {
	br := bufio.NewReaderSize(r, 64<<10)
	v.lines = 0
	for line := 1; ; line++ {
		b, err := readLine(br)
		if err == io.EOF {
			if line == 1 {
				v.problem(VerifyError{File: name, Line: 1, Kind: ProblemHeadTruncated, Reason: "the file is empty: it has no genesis line"})
			}
			return nil
		}
		v.lines = line
		if errors.Is(err, errTorn) {
			v.problem(VerifyError{File: name, Line: line, Kind: ProblemTorn, Seq: v.seq + 1, Reason: err.Error()})
			return nil
		}
		if err != nil && !errors.Is(err, errLong) {
			return err
		}
		if err != nil {
			v.problem(VerifyError{File: name, Line: line, Kind: ProblemMalformed, Reason: err.Error()})
			continue
		}
		v.line(name, line, b)
	}
}

// line checks one line of a file.
func (v *verifier) line(name string, line int, b []byte) {
	p, lerr := open(b, v.opts.Keys)
	at := func(kind string, seq, from, to uint64, format string, args ...any) {
		v.problem(VerifyError{File: name, Line: line, Kind: kind, Seq: seq, From: from, To: to, Reason: fmt.Sprintf(format, args...)})
	}
	if lerr != nil {
		at(lerr.kind, p.Seq, 0, 0, "%s", lerr.reason)
		if p.Instance != "" {
			if v.claimed == nil {
				v.claimed = map[string]bool{}
			}
			v.claimed[p.Instance] = true
		}
		if p.Seq == 0 {
			return // nothing to follow the chain with
		}
	}
	if lerr == nil && v.dir && v.foreign(name, line, &p) {
		return
	}
	switch {
	case line == 1 && p.Kind != KindGenesis && !v.started:
		from := uint64(1)
		if p.Seq <= from {
			from = 0
		}
		at(ProblemHeadTruncated, p.Seq, from, p.Seq-1,
			"the log starts at seq %d, which is not a genesis line: the records before it were removed", p.Seq)
	case line == 1 && p.Kind != KindGenesis:
		at(ProblemHeadTruncated, p.Seq, 0, 0,
			"the file starts at seq %d, which is not a genesis line: the head of this file was removed", p.Seq)
	case line != 1 && p.Kind == KindGenesis:
		at(ProblemOrder, p.Seq, 0, 0, "a genesis line (seq %d) in the middle of a file: records were spliced in", p.Seq)
	}
	if lerr == nil {
		v.authentic(name, line, &p, at)
	}
	if p.Kind == KindGenesis && p.PredLog != "" && lerr == nil && !v.resuming {
		if v.preds == nil {
			v.preds = map[string]uint64{}
		}
		if _, ok := v.preds[p.PredLog]; !ok {
			v.res.Predecessors = append(v.res.Predecessors, p.PredLog)
		}
		v.preds[p.PredLog] = max(v.preds[p.PredLog], p.PredSeq)
		v.problem(VerifyError{File: name, Line: line, Kind: ProblemMissingLog, Seq: p.Seq, From: 1, To: p.PredSeq, Log: p.PredLog, Instance: p.Instance,
			Reason: fmt.Sprintf("this log was started in place of log %s, whose records %s (last hash %s) are not among the files given: the earlier log was deleted or moved",
				p.PredLog, seqRange(1, p.PredSeq), p.PredHash)})
	}
	if p.Kind == KindRecovery && lerr == nil {
		v.res.Recoveries = append(v.res.Recoveries, VerifyRecovery{File: name, Line: line, Seq: p.Seq,
			CutLine: p.CutLine, CutBytes: p.CutBytes, CutSHA256: p.CutSHA256})
	}
	if p.Kind == KindGenesis || p.Kind == KindCheckpoint || p.Kind == KindRecovery {
		switch {
		case p.Log == "":
			at(ProblemMalformed, p.Seq, 0, 0, "a %s line without a log id", p.Kind)
		case v.res.Log == "":
			v.res.Log = p.Log
			if p.Kind == KindGenesis {
				v.began = p.Time
			}
		case p.Log != v.res.Log:
			at(ProblemForeign, p.Seq, 0, 0, "seq %d belongs to log %s, not %s: records of another log were spliced in", p.Seq, p.Log, v.res.Log)
			if lerr == nil && !v.interleaved {
				v.interleaved = true
				at(ProblemInterleaved, p.Seq, 0, 0, "%s holds authentic lines of two logs (%s and %s): two processes appended to one file "+
					"(two replicas running under one instance id and path?), or a log was spliced into another", name, v.res.Log, p.Log)
			}
		}
	}
	if !v.started {
		if p.Kind == KindGenesis && !v.partial && (p.Seq != 1 || p.PrevHash != GenesisHash || p.File != 1) {
			at(ProblemHeadTruncated, p.Seq, 1, p.Seq-1,
				"the log starts at file %d, seq %d: records 1..%d (files 1..%d) are not among the files given", p.File, p.Seq, p.Seq-1, p.File-1)
		}
		if p.Seq == 1 && p.PrevHash != GenesisHash {
			at(ProblemRelinked, p.Seq, 0, 0, "seq 1 must have the genesis prev_hash")
		}
		v.res.FirstSeq = p.Seq
	} else {
		switch {
		case p.Seq > v.seq+1:
			at(ProblemGap, p.Seq, v.seq+1, p.Seq-1, "records %s are missing: seq %d follows seq %d", seqRange(v.seq+1, p.Seq-1), p.Seq, v.seq)
		case p.Seq <= v.seq:
			at(ProblemOrder, p.Seq, 0, 0, "seq %d follows seq %d: records were reordered or duplicated", p.Seq, v.seq)
		case p.PrevHash != v.hash && lerr == nil:
			at(ProblemRelinked, p.Seq, 0, 0, "prev_hash of seq %d does not match the hash of seq %d: a record was replaced or removed", p.Seq, v.seq)
		}
	}
	if p.Kind == KindCheckpoint && lerr == nil {
		v.checkpoints[p.Seq] = p.hash
	}
	if p.Seq > v.seq || !v.started {
		v.seq, v.hash = p.Seq, p.hash
	}
	v.started = true
	v.res.Records++
	if p.Kind == "" {
		v.res.Calls++
		if lerr == nil {
			v.res.Counts.add(&p)
		}
	}
	v.res.LastSeq, v.res.LastHash = v.seq, v.hash
}

// foreign reports whether an authentic line is another instance's, and
// reports it: its instance is not the chain's (nor one the chain's writer
// was renamed to), and it does not continue the chain. It is left out of
// the chain (its seq, hash and checkpoint would be taken for the chain's).
func (v *verifier) foreign(name string, line int, p *sealed) bool {
	if p.Instance == "" {
		return false // older than instance ids
	}
	if v.inst == "" {
		v.inst, v.accepted = p.Instance, map[string]bool{p.Instance: true}
		return false
	}
	if v.accepted[p.Instance] {
		return false
	}
	if v.started && p.Seq == v.seq+1 && p.PrevHash == v.hash && (p.Log == "" || p.Log == v.res.Log) {
		v.accepted[p.Instance] = true // the writer was renamed; the chain goes on
		return false
	}
	what := "record"
	if p.Kind != "" {
		what = p.Kind + " line"
	}
	if p.Log != "" {
		what += " of log " + p.Log
	}
	v.problem(VerifyError{File: name, Line: line, Kind: ProblemForeign, Seq: p.Seq, Log: p.Log, Instance: p.Instance,
		Reason: fmt.Sprintf("line %d is seq %d of instance %s (a %s), not of this chain's instance %s: another replica's line was copied into %s",
			line, p.Seq, p.Instance, what, v.inst, name)})
	if v.placed == nil {
		v.placed = map[string]*placedLines{}
	}
	pl := v.placed[p.Instance]
	if pl == nil {
		pl = &placedLines{file: name, first: line}
		v.placed[p.Instance] = pl
	}
	pl.last = line
	pl.n++
	return true
}

// authentic takes note of a line whose MAC verified: its instance, and
// whether it forks the chain (a second line at a seq already seen, with
// another hash, after the same record: two writers in one file).
func (v *verifier) authentic(name string, line int, p *sealed, at func(kind string, seq, from, to uint64, format string, args ...any)) {
	if p.Instance != "" {
		if v.instances == nil {
			v.instances = map[string]bool{}
		}
		if !v.instances[p.Instance] {
			v.instances[p.Instance] = true
			v.res.Instances = append(v.res.Instances, p.Instance)
		}
		if v.opts.Instance != "" && p.Instance != v.opts.Instance {
			at(ProblemForeign, p.Seq, 0, 0, "seq %d was written by instance %s, not %s: another replica's records (its log copied over this one?)",
				p.Seq, p.Instance, v.opts.Instance)
		}
	}
	if h, ok := v.recent[p.Seq]; ok && v.started && h != p.hash && !v.interleaved && v.recent[p.Seq-1] == p.PrevHash {
		v.interleaved = true
		at(ProblemInterleaved, p.Seq, 0, 0, "seq %d appears twice with two authentic records after the same seq %d: two processes appended to %s "+
			"(two replicas running under one instance id and path?); each replica needs its own instance id and file", p.Seq, p.Seq-1, name)
	}
	if _, ok := v.recent[p.Seq]; !ok {
		v.recent[p.Seq] = p.hash
		v.recentQ = append(v.recentQ, p.Seq)
		if len(v.recentQ) > recentWindow {
			delete(v.recent, v.recentQ[0])
			v.recentQ = v.recentQ[1:]
		}
	}
}

// otherLog is what a witness holds of a log other than the one verified.
type otherLog struct {
	n         int
	line      int
	last      Checkpoint
	instances map[string]bool
}

// ours reports whether a log of the witness is one this log's instances
// wrote: a witness shared by a fleet holds the other replicas' logs too,
// which are theirs to account for (VerifyDir checks them all). The
// instance the log must be of (VerifyConfig.Instance) counts as one of
// them. A log none of whose lines is authentic is taken at its word
// (the instance its forged lines claim); one without instance ids at
// all keeps the old rule: every log.
func (v *verifier) ours(o *otherLog) bool {
	if v.opts.Instance != "" && o.instances[v.opts.Instance] {
		return true
	}
	mine := v.instances
	if len(mine) == 0 {
		mine = v.claimed // a forged log: the instance it pretends to be
	}
	if len(mine) == 0 {
		return true
	}
	for id := range o.instances {
		if mine[id] {
			return true
		}
	}
	return false
}

// witness checks the log against a witness's checkpoints.
func (v *verifier) witness(last string) {
	var beyond *Checkpoint
	covered := false
	var others []string
	other := map[string]*otherLog{}
	var end time.Time // of the newest checkpoint the keyring signed
	for i, c := range v.opts.Checkpoints {
		if v.res.Log != "" && c.Log != v.res.Log {
			// Another log's checkpoint. Signed with this keyring, it
			// is a log of a server holding this key that the witness
			// vouches for: it must be among the files given. Others
			// (another server's key) are not ours to judge.
			if c.verify(v.opts.Keys) != nil {
				continue
			}
			if c.Time.After(end) {
				end = c.Time.Time
			}
			o := other[c.Log]
			if o == nil {
				o = &otherLog{instances: map[string]bool{}}
				other[c.Log] = o
				others = append(others, c.Log)
			}
			o.instances[c.Instance] = true
			o.n++
			if c.Seq >= o.last.Seq {
				o.last, o.line = c, i+1
			}
			continue
		}
		if err := c.verify(v.opts.Keys); err != nil {
			v.problem(VerifyError{File: "witness", Line: i + 1, Kind: ProblemBadCheckpoint, Seq: c.Seq,
				Reason: fmt.Sprintf("witness checkpoint %d (seq %d): %v", i+1, c.Seq, err)})
			continue
		}
		v.res.Checkpoints++
		v.res.LastWitnessed = max(v.res.LastWitnessed, c.Seq)
		if c.Time.After(end) {
			end = c.Time.Time
		}
		if c.Seq >= v.res.FirstSeq {
			covered = true // it vouches for the records up to its seq
		}
		switch {
		case c.Seq > v.seq:
			if beyond == nil || c.Seq > beyond.Seq {
				beyond = &v.opts.Checkpoints[i]
			}
		case c.Seq < v.res.FirstSeq:
			// Before the files given (Partial); the head check covers it.
		case v.checkpoints[c.Seq] != c.Hash:
			v.problem(VerifyError{File: "witness", Line: i + 1, Kind: ProblemWitnessMismatch, Seq: c.Seq,
				Reason: fmt.Sprintf("the witness holds a checkpoint at seq %d (%s) that the log does not have: record %d was replaced or removed",
					c.Seq, c.Time.UTC().Format(timeLayout), c.Seq)})
		}
	}
	for _, id := range others {
		o := other[id]
		if s, ok := v.preds[id]; ok && o.last.Seq <= s {
			continue // reported at the genesis line naming it
		}
		if v.dir || !v.ours(o) {
			continue
		}
		v.problem(missingLog(o, id, "the files given"))
	}
	if (v.opts.Witnessed || len(v.opts.Checkpoints) > 0) && !covered && v.started {
		v.problem(v.unwitnessed(last, end))
	}
	if beyond != nil {
		v.problem(VerifyError{File: last, Line: v.lines + 1, Kind: ProblemTailTruncated, Seq: beyond.Seq, From: v.seq + 1, To: beyond.Seq,
			Reason: fmt.Sprintf("the log ends at seq %d but the witness holds a checkpoint at seq %d (%s): records %s were cut from the end",
				v.seq, beyond.Seq, beyond.Time.UTC().Format(timeLayout), seqRange(v.seq+1, beyond.Seq))})
	}
}

// missingLog reports a log the witness holds checkpoints of that is not
// among the files verified.
func missingLog(o *otherLog, id, where string) VerifyError {
	return VerifyError{File: "witness", Line: o.line, Kind: ProblemMissingLog, Seq: o.last.Seq, From: 1, To: o.last.Seq, Log: id, Instance: o.last.Instance,
		Reason: fmt.Sprintf("the witness holds %d checkpoints of log %s, up to seq %d (%s), written by instance %s and signed with this keyring: records %s of that log are not among %s (the log was deleted or replaced?)",
			o.n, id, o.last.Seq, o.last.Time.UTC().Format(timeLayout), o.last.Instance, seqRange(1, o.last.Seq), where)}
}

// unwitnessed says why no checkpoint of the witness covers the log given.
// It is a problem whatever the reason: a log the witness does not vouch
// for could be any log sealed with the key.
func (v *verifier) unwitnessed(last string, end time.Time) VerifyError {
	e := VerifyError{File: last, Line: v.lines, Kind: ProblemUnwitnessed, From: v.res.FirstSeq, To: v.seq}
	began, _ := time.Parse(time.RFC3339Nano, v.began)
	what := fmt.Sprintf("the witness holds no checkpoint of log %s covering records %s", v.res.Log, seqRange(v.res.FirstSeq, v.seq))
	switch {
	case end.IsZero():
		e.Reason = what + ": the witness holds no checkpoint at all signed with this keyring; nothing vouches for this log"
	case !began.IsZero() && end.Before(began):
		e.Reason = fmt.Sprintf("%s: the witness ends at %s, before this log began (%s); if the log is shorter than one checkpoint interval and the witness copy older than it, verify again with a newer copy, else the log is not the one the witness vouches for",
			what, end.UTC().Format(timeLayout), began.UTC().Format(timeLayout))
	default:
		e.Reason = fmt.Sprintf("%s, though it holds checkpoints up to %s: this is not the log the witness vouches for (replaced?)", what, end.UTC().Format(timeLayout))
	}
	return e
}

func seqRange(from, to uint64) string {
	if from == to {
		return fmt.Sprint(from)
	}
	return fmt.Sprintf("%d..%d", from, to)
}

var (
	errTorn = errors.New("truncated: the last line has no newline (a torn write)")
	errLong = fmt.Errorf("line longer than %d bytes", maxLine)
)

// readLine returns the next line without its newline; io.EOF at the end,
// errTorn for trailing bytes without a newline, errLong for a line past
// maxLine (the rest of which is skipped).
func readLine(br *bufio.Reader) ([]byte, error) {
	var buf []byte
	long := false
	for {
		chunk, err := br.ReadSlice('\n')
		if !long {
			buf = append(buf, chunk...)
			if len(buf) > maxLine {
				long, buf = true, nil
			}
		}
		switch {
		case err == nil && long:
			return nil, errLong
		case err == nil:
			return bytes.TrimSuffix(buf, []byte("\n")), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF && len(buf) == 0 && !long:
			return nil, io.EOF
		case err == io.EOF:
			return nil, errTorn
		default:
			return nil, err
		}
	}
}
