package audit

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Recovery is what Open found in an existing file.
type Recovery struct {
	// Records is how many intact lines the active file held.
	Records int
	// LastSeq is the seq the chain resumes after.
	LastSeq uint64
	// TornBytes is how many bytes of a torn last line (a write cut short
	// by a crash) were cut off; TornLine is its line number.
	TornBytes int64
	TornLine  int
	// TornSHA256 is the SHA-256 of the bytes cut; a recovery line in the
	// log records the cut.
	TornSHA256 string
	// Log is the log id (new, or resumed from the genesis line); Instance
	// is this process's instance id (WithInstance, else DefaultInstance),
	// in every line it writes.
	Log      string
	Instance string
	// Predecessor is, for a new log, the last checkpoint a witness held
	// of the log this one was started in place of (nil: none). Open logs
	// it at ERROR and the genesis line records it.
	Predecessor *Checkpoint
}

// FileSink appends records as JSON lines to a file, each sealed with an
// HMAC-SHA-256 in a chain, under a genesis line per file and with periodic
// checkpoints sent to witnesses. See the package documentation for the
// guarantees.
type FileSink struct {
	path   string
	cfg    fileConfig
	sealer *sealer
	host   string

	mu    sync.Mutex
	cond  sync.Cond
	queue []*fileEntry
	busy  bool // one goroutine owns the file: a committer, the ticker or Close
	// syncing is set while Flush fsyncs the file without owning it, so
	// that writers are not held up by the disk; the file is not closed
	// (rotation, Close) until it is clear.
	syncing  bool
	closed   bool
	failed   error // sticky: the file was removed or changed under us
	f        *os.File
	ident    os.FileInfo // the open file's identity, for os.SameFile
	size     int64
	seq      uint64
	last     string
	rotated  int
	dirty    bool
	sinceCP  int       // records since the last checkpoint
	lastCP   time.Time // when the last checkpoint was written
	buf      []byte
	recovery Recovery
	cutDue   bool // a recovery line is still to be written

	stop      chan struct{}
	done      chan struct{}
	witnessQ  chan Checkpoint
	witnessed chan struct{}
}

type fileEntry struct {
	body []byte
	r    *Record
	// durable: the record is fsynced before Write returns (a write-ahead
	// record: the change it announces must not outlive it in a power loss).
	durable bool
	done    bool
	err     error
	// The entry's place in the chain, set while sealing.
	seq             uint64
	prev, hash, kid string
}

// witnessQueue bounds the checkpoints waiting for slow witnesses.
const witnessQueue = 256

// Open opens (or creates) the log's active file at path, recovering it
// first: a torn last line is cut off and reported, and the chain resumes
// after the last intact record (of the newest rotated file when the
// active one is empty). A record that fails verification is an error:
// the file was altered and needs a person, not a silent new chain. A new
// file starts with a genesis line; every Open writes a checkpoint.
//
// Open needs WithKeyring, or WithInsecureNoKey for a development log.
func Open(path string, opts ...FileOption) (*FileSink, error) {
	cfg := fileConfig{syncEvery: 200 * time.Millisecond, maxBytes: 64 << 20, now: time.Now, sync: (*os.File).Sync,
		cp: checkpointPolicy{every: 1000, interval: 10 * time.Second}}
	for _, o := range opts {
		o(&cfg)
	}
	if len(cfg.errs) > 0 {
		return nil, errors.Join(cfg.errs...)
	}
	switch {
	case cfg.keys == nil && !cfg.insecureNoKey:
		return nil, errors.New("audit: Open needs a key so that the log cannot be rewritten by whoever can write the file: " +
			"pass audit.WithKeyring (load it with audit.KeyringFromEnv(audit.EnvKey) or audit.ReadKeyFile), " +
			"or audit.WithInsecureNoKey() for a throwaway development log")
	case cfg.keys != nil && cfg.insecureNoKey:
		return nil, errors.New("audit: WithKeyring and WithInsecureNoKey exclude each other")
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	if cfg.server.Name == "" {
		cfg.server.Name = filepath.Base(os.Args[0])
	}
	if cfg.instance == "" {
		cfg.instance = DefaultInstance(path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	host, _ := os.Hostname()
	s := &FileSink{path: path, cfg: cfg, sealer: newSealer(cfg.keys), host: host, last: GenesisHash,
		stop: make(chan struct{}), done: make(chan struct{}), witnessed: make(chan struct{})}
	s.cond.L = &s.mu
	// The file is locked before it is read: a second process on the same
	// path (two replicas under one instance id) must not cut, resume or
	// interleave the chain of the first.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("audit: %s is in use by another process (%v): two writers would interleave two chains in one file; "+
			"give each replica its own instance id and file (WithInstance; serve: -instance-id and -audit 'audit/{instance}.jsonl')", path, err)
	}
	if err := s.recover(); err != nil {
		f.Close()
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("audit: %w", err)
	}
	s.f, s.ident, s.size, s.lastCP = f, fi, fi.Size(), cfg.now()
	if s.recovery.Log == "" {
		s.recovery.Log = newID()
	}
	s.recovery.Instance = cfg.instance
	if s.size == 0 && s.rotated == 0 && s.seq == 0 {
		s.findPredecessor()
	}
	if len(cfg.witnesses) > 0 {
		s.witnessQ = make(chan Checkpoint, witnessQueue)
		go s.deliver()
	} else {
		close(s.witnessed)
	}
	// The genesis line (for a new file) and the open checkpoint.
	if err := s.commit(nil, "open"); err != nil {
		f.Close()
		if s.witnessQ != nil {
			close(s.witnessQ)
		}
		return nil, err
	}
	if s.tick() > 0 {
		go s.loop()
	} else {
		close(s.done)
	}
	return s, nil
}

// Recovered reports what Open found.
func (s *FileSink) Recovered() Recovery { return s.recovery }

// Path returns the active file's path.
func (s *FileSink) Path() string { return s.path }

// recover reads the existing chain to resume it.
func (s *FileSink) recover() error {
	rot, err := RotatedFiles(s.path)
	if err != nil {
		return err
	}
	if len(rot) > 0 {
		s.rotated = rotationIndex(s.path, rot[len(rot)-1])
	}
	// The active file alone is checked: from its genesis line (whatever
	// its seq) to its end. Linking to the rotated files is the
	// verifier's job.
	v := newVerifier(VerifyConfig{Keys: s.cfg.keys, InsecureNoKey: s.cfg.keys == nil, Partial: true})
	v.resuming = true
	f, err := os.OpenFile(s.path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		f = nil
	} else if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if f != nil {
		defer f.Close()
		if err := s.recoverFile(f, v); err != nil {
			return err
		}
	}
	if !v.started && len(rot) > 0 {
		// An empty active file continues the newest rotated one.
		rf, err := os.Open(rot[len(rot)-1])
		if err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		err = v.file(rf.Name(), rf)
		rf.Close()
		if err == nil && len(v.res.Problems) > 0 {
			err = &v.res.Problems[0]
		}
		if err != nil {
			return fmt.Errorf("audit: resuming the chain from the newest rotated file: %w", err)
		}
	}
	if v.started {
		s.seq, s.last = v.seq, v.hash
	}
	s.recovery.LastSeq, s.recovery.Log = s.seq, v.res.Log
	return nil
}

func (s *FileSink) recoverFile(f *os.File, v *verifier) error {
	br := bufio.NewReaderSize(f, 64<<10)
	var good int64
	for line := 1; ; line++ {
		b, err := readLine(br)
		if err == io.EOF {
			return nil
		}
		if errors.Is(err, errTorn) {
			return s.cutTorn(f, good, line, v.seq)
		}
		if err != nil && !errors.Is(err, errLong) {
			return fmt.Errorf("audit: %s:%d: %w", s.path, line, err)
		}
		if err == nil {
			v.line(s.path, line, b)
		}
		if err != nil || len(v.res.Problems) > 0 {
			perr := error(&VerifyError{File: s.path, Line: line, Kind: ProblemMalformed, Reason: fmt.Sprint(err)})
			if len(v.res.Problems) > 0 {
				perr = &v.res.Problems[0]
			}
			return fmt.Errorf("audit: the existing chain is broken, refusing to append to it (move the file aside for investigation): %w", perr)
		}
		good += int64(len(b)) + 1
		s.recovery.Records++
	}
}

// findPredecessor looks, for a log that starts now, for checkpoints the
// witnesses hold of an earlier log of this instance signed with the
// keyring: that log was deleted or moved, and the new one records it as
// its predecessor.
func (s *FileSink) findPredecessor() {
	for _, w := range s.cfg.witnesses {
		r, ok := w.(WitnessReader)
		if !ok {
			continue
		}
		cps, err := r.ReadCheckpoints()
		if err != nil {
			s.cfg.logger.Error("audit: cannot read the witness's checkpoints to check that no earlier log is missing", "error", err)
			continue
		}
		for i := len(cps) - 1; i >= 0; i-- {
			c := cps[i]
			// Another replica's logs, sharing the witness, are not
			// this one's predecessors.
			if c.Log == s.recovery.Log || c.Instance != s.recovery.Instance || c.verify(s.cfg.keys) != nil {
				continue
			}
			s.recovery.Predecessor = &c
			s.cfg.logger.Error("audit: the audit file is new, but the witness holds checkpoints of an earlier log of this server, "+
				"which is missing (deleted or moved?); the new log names it as its predecessor, and auditverify reports it until it is found",
				"file", s.path, "predecessor_log", c.Log, "predecessor_seq", c.Seq, "predecessor_hash", c.Hash)
			return
		}
	}
}

// cutTorn cuts the unterminated tail of the file, from offset good (line
// number line), after checking that it is what a crash leaves: at most the
// start of one record, an incomplete JSON text. Complete records without
// a newline are not a crash; they are refused, not cut. The cut is put on
// record by a recovery line written at Open.
func (s *FileSink) cutTorn(f *os.File, good int64, line int, lastSeq uint64) error {
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if fi.Size()-good > maxLine {
		return fmt.Errorf("audit: %s ends with %d bytes without a newline, more than one record can be: not a write torn by a crash; refusing to cut them (move the file aside for investigation)", s.path, fi.Size()-good)
	}
	tail := make([]byte, fi.Size()-good)
	if _, err := f.ReadAt(tail, good); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if n, seqs, torn := tornTail(tail); !torn {
		what := "bytes that are not the start of a record"
		if n == 1 {
			what = "1 complete record" + seqs
		} else if n > 1 {
			what = fmt.Sprintf("%d complete records%s", n, seqs)
		}
		return fmt.Errorf("audit: %s:%d: the last %d bytes, without a newline, hold %s: not a write torn by a crash "+
			"(which leaves at most one incomplete record), so they are not cut; the file was edited: "+
			"move it aside for investigation, or restore the newlines between its records, then start again", s.path, line, len(tail), what)
	}
	if err := f.Truncate(good); err != nil {
		return fmt.Errorf("audit: cutting the torn last line of %s: %w", s.path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	sum := sha256.Sum256(tail)
	s.recovery.TornBytes, s.recovery.TornLine, s.recovery.TornSHA256 = int64(len(tail)), line, hex.EncodeToString(sum[:])
	s.cutDue = true
	s.cfg.logger.Warn("audit: cut a torn last line left by a crash; the chain resumes from the last intact record, and a recovery line records the cut",
		"file", s.path, "line", line, "bytes", len(tail), "sha256", s.recovery.TornSHA256, "resume_after_seq", lastSeq)
	return nil
}

// tornTail reports whether tail is what a crash leaves at the end of the
// file: the start of one JSON text, incomplete, or zeros. Otherwise it returns how
// many complete JSON texts it holds and their seqs.
func tornTail(tail []byte) (int, string, bool) {
	// A power loss can leave the file's end as zeros (its size written
	// before its data): a crash artefact too.
	tail = bytes.TrimRight(tail, "\x00")
	if len(tail) == 0 {
		return 0, "", true
	}
	if tail[0] != '{' {
		return 0, "", false
	}
	dec := json.NewDecoder(bytes.NewReader(tail))
	var n int
	var first, last uint64
	for {
		var r struct {
			Seq uint64 `json:"seq"`
		}
		err := dec.Decode(&r)
		if err == io.EOF || (err != nil && n > 0) {
			break
		}
		if errors.Is(err, io.ErrUnexpectedEOF) && n == 0 {
			return 0, "", true // the start of one record: torn
		}
		if err != nil {
			return 0, "", false
		}
		if n == 0 {
			first = r.Seq
		}
		last = r.Seq
		n++
	}
	if first == 0 {
		return n, "", false
	}
	return n, " (seq " + seqRange(first, last) + ")", false
}

// Write appends r to the chain and returns once it is written (and, with
// WithSyncEachRecord or for a write-ahead record, phase "start", fsynced),
// and the file it went to is still the one at the sink's path. On return
// r's Seq, PrevHash, Kid and Hash are set. A failed write leaves neither
// the file nor the chain changed, or leaves the sink failed.
func (s *FileSink) Write(ctx context.Context, r *Record) error {
	cp := *r
	cp.Seq, cp.PrevHash, cp.Kid, cp.Hash, cp.Kind = 0, "", "", "", ""
	cp.Instance = s.recovery.Instance
	body, err := cp.AppendJSON(nil)
	if err != nil {
		return fmt.Errorf("audit: encode record: %w", err)
	}
	e := &fileEntry{body: body, r: r, durable: r.Phase == PhaseStart}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return err
	}
	s.queue = append(s.queue, e)
	for !e.done {
		if s.busy {
			s.cond.Wait()
			continue
		}
		// Group commit: whoever finds the file free writes everything
		// queued so far, its own record included, in one write.
		batch := s.queue
		s.queue = nil
		s.busy = true
		s.mu.Unlock()
		_ = s.commit(batch, "")
		s.mu.Lock()
		s.busy = false
		s.cond.Broadcast()
	}
	return e.err
}

func (s *FileSink) usable() error {
	if s.closed {
		return ErrClosed
	}
	return s.failed
}

// commit writes a batch, preceded by a genesis line when the file is
// empty and followed by a checkpoint when one is due or cpReason is set;
// called by the goroutine owning the file.
func (s *FileSink) commit(batch []*fileEntry, cpReason string) error {
	err := s.failedErr()
	var buf []byte
	var seq uint64
	var last string
	var cp *Checkpoint
	if err == nil {
		buf, seq, last, cp = s.seal(batch, cpReason)
		if s.cfg.maxBytes > 0 && s.size > 0 && s.size+int64(len(buf)) > s.cfg.maxBytes {
			if err = s.rotate(); err == nil {
				buf, seq, last, cp = s.seal(batch, cpReason)
			}
		}
	}
	if err == nil && len(buf) > 0 {
		err = s.append(buf)
		if err == nil {
			// The file the records went to must still be the one at
			// the path: records written to a removed or replaced file
			// are not in the log, and are not acknowledged.
			err = s.checkNow()
		}
	}
	durable := s.cfg.syncEach || cp != nil
	for _, e := range batch {
		durable = durable || e.durable
	}
	if err == nil && durable {
		// A checkpoint is fsynced before a witness sees it, so that a
		// power loss cannot make the log lag its witness; a write-ahead
		// record before its handler runs.
		if err = s.cfg.sync(s.f); err != nil {
			err = fmt.Errorf("audit: fsync %s: %w", s.path, err)
		}
	}
	if cap(buf) <= 1<<20 {
		s.buf = buf
	}
	s.mu.Lock()
	for _, e := range batch {
		e.done = true
		if err != nil {
			e.err = err
			continue
		}
		e.r.Seq, e.r.PrevHash, e.r.Kid, e.r.Hash = e.seq, e.prev, e.kid, e.hash
		e.r.Instance = s.recovery.Instance
	}
	if err == nil {
		s.seq, s.last = seq, last
		s.cutDue = false
		s.dirty = !durable
		s.sinceCP += len(batch)
		if cp != nil {
			s.sinceCP, s.lastCP = 0, cp.Time.Time
		}
	}
	s.mu.Unlock()
	if err == nil && cp != nil && s.witnessQ != nil {
		select {
		case s.witnessQ <- *cp:
		default:
			s.cfg.logger.Warn("audit: the witnesses lag behind; a checkpoint was not sent to them", "seq", cp.Seq)
		}
	}
	return err
}

// seal seals a batch after the chain's current end into s.buf: a genesis
// line first if the file is empty, a checkpoint last if one is due.
func (s *FileSink) seal(batch []*fileEntry, cpReason string) ([]byte, uint64, string, *Checkpoint) {
	seq, last := s.seq, s.last
	buf := s.buf[:0]
	now := s.cfg.now()
	if s.size == 0 {
		seq++
		m := marker{Kind: KindGenesis, Time: Time{now}, Server: &s.cfg.server, Host: s.host,
			Log: s.recovery.Log, Instance: s.recovery.Instance, File: s.rotated + 1}
		if p := s.recovery.Predecessor; p != nil && seq == 1 {
			m.PredLog, m.PredSeq, m.PredHash = p.Log, p.Seq, p.Hash
		}
		body, _ := json.Marshal(m)
		buf, last, _ = s.sealer.seal(buf, body, seq, last)
	}
	if s.cutDue {
		seq++
		body, _ := json.Marshal(marker{Kind: KindRecovery, Time: Time{now}, Log: s.recovery.Log, Instance: s.recovery.Instance,
			CutLine: s.recovery.TornLine, CutBytes: s.recovery.TornBytes, CutSHA256: s.recovery.TornSHA256})
		buf, last, _ = s.sealer.seal(buf, body, seq, last)
	}
	for _, e := range batch {
		seq++
		e.seq, e.prev = seq, last
		buf, e.hash, e.kid = s.sealer.seal(buf, e.body, seq, last)
		last = e.hash
	}
	if cpReason == "" && s.cfg.cp.every > 0 && s.sinceCP+len(batch) >= s.cfg.cp.every {
		cpReason = "records"
	}
	if cpReason == "" {
		return buf, seq, last, nil
	}
	seq++
	cp := &Checkpoint{Log: s.recovery.Log, Instance: s.recovery.Instance, Seq: seq, Time: Time{now}, Reason: cpReason}
	body, _ := json.Marshal(marker{Kind: KindCheckpoint, Time: cp.Time, Log: cp.Log, Instance: cp.Instance, Reason: cpReason})
	buf, cp.Hash, _ = s.sealer.seal(buf, body, seq, last)
	cp.sign(s.cfg.keys)
	return buf, seq, cp.Hash, cp
}

func (s *FileSink) failedErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failed
}

// append writes buf; on a short or failed write it cuts the file back so
// that no partial line stays behind.
func (s *FileSink) append(buf []byte) error {
	n, err := s.f.Write(buf)
	if err == nil {
		s.size += int64(n)
		return nil
	}
	werr := fmt.Errorf("audit: write %s: %w", s.path, err)
	if n > 0 {
		if terr := s.f.Truncate(s.size); terr != nil {
			s.fail(fmt.Errorf("audit: %s holds a partial record that could not be removed (%v) after: %w", s.path, terr, werr))
			return werr
		}
	}
	return werr
}

func (s *FileSink) fail(err error) {
	s.mu.Lock()
	if s.failed == nil {
		s.failed = err
	}
	s.mu.Unlock()
	s.cfg.logger.Error("audit: file sink failed; calls that need an audit record are refused", "file", s.path, "error", err)
}

// checkNow detects a file removed, replaced, truncated or appended to by
// someone else: after that the chain on disk is not ours to extend. It
// runs after every write (one stat call) and at every tick.
func (s *FileSink) checkNow() error {
	// One stat of the path: the identity of the open file is known since
	// it was opened, and a file that is still ours has our size.
	onDisk, err := os.Stat(s.path)
	if err != nil {
		err = fmt.Errorf("audit: %s was removed under the server: %w", s.path, err)
		s.fail(err)
		return err
	}
	if !os.SameFile(onDisk, s.ident) {
		err = fmt.Errorf("audit: %s was replaced under the server", s.path)
		s.fail(err)
		return err
	}
	if onDisk.Size() != s.size {
		err = fmt.Errorf("audit: %s was modified under the server (size %d, expected %d)", s.path, onDisk.Size(), s.size)
		s.fail(err)
		return err
	}
	return nil
}

// rotate closes the active file under a rotated name and starts a new one;
// the chain continues across the two, and the new file's genesis line
// links to the old file's last record.
func (s *FileSink) rotate() error {
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("audit: fsync before rotation: %w", err)
	}
	if err := s.checkNow(); err != nil {
		return err
	}
	next := rotatedName(s.path, s.rotated+1)
	if err := os.Rename(s.path, next); err != nil {
		return fmt.Errorf("audit: rotate: %w", err)
	}
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		err = fmt.Errorf("audit: rotate: %w", err)
		s.fail(err)
		return err
	}
	if err := lockFile(f); err != nil {
		f.Close()
		err = fmt.Errorf("audit: rotate: the new file %s is locked by another process: %w", s.path, err)
		s.fail(err)
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		err = fmt.Errorf("audit: rotate: %w", err)
		s.fail(err)
		return err
	}
	s.waitSynced()
	s.f.Close()
	s.f, s.ident, s.size, s.rotated = f, fi, 0, s.rotated+1
	syncDir(filepath.Dir(s.path))
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// own waits until no other goroutine uses the file and takes it.
func (s *FileSink) own() {
	s.mu.Lock()
	for s.busy {
		s.cond.Wait()
	}
	s.busy = true
	s.mu.Unlock()
}

func (s *FileSink) release() {
	s.mu.Lock()
	s.busy = false
	s.cond.Broadcast()
	s.mu.Unlock()
}

// tick is the period of the background loop: the sync interval in group
// commit mode, at most half the checkpoint interval (so that checkpoints
// are at most 1.5 intervals apart); 0 for no loop.
func (s *FileSink) tick() time.Duration {
	var d time.Duration
	if !s.cfg.syncEach && s.cfg.syncEvery > 0 {
		d = s.cfg.syncEvery
	}
	if iv := max(s.cfg.cp.interval/2, time.Millisecond); s.cfg.cp.interval > 0 && (d == 0 || iv < d) {
		d = iv
	}
	return d
}

func (s *FileSink) loop() {
	defer close(s.done)
	t := time.NewTicker(s.tick())
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			_ = s.Flush(context.Background())
			s.checkpointIfDue()
		}
	}
}

// checkpointIfDue writes an interval checkpoint when records were written
// since the last one and the interval has passed.
func (s *FileSink) checkpointIfDue() {
	if s.cfg.cp.interval <= 0 {
		return
	}
	s.own()
	defer s.release()
	s.mu.Lock()
	due := s.failed == nil && !s.closed && s.sinceCP > 0 && s.cfg.now().Sub(s.lastCP) >= s.cfg.cp.interval
	s.mu.Unlock()
	if due {
		_ = s.commit(nil, "interval")
	}
}

// deliver sends checkpoints to the witnesses, in order.
func (s *FileSink) deliver() {
	defer close(s.witnessed)
	for c := range s.witnessQ {
		for _, w := range s.cfg.witnesses {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := w.Checkpoint(ctx, c); err != nil {
				s.cfg.logger.Error("audit: a witness did not take a checkpoint", "seq", c.Seq, "error", err)
			}
			cancel()
		}
	}
}

// Flush fsyncs what has been written and checks that the file is still
// the one the chain is in. The fsync runs without owning the file: records
// written meanwhile go on being appended (and are covered by the next
// Flush), so the periodic flush never stalls a call on the disk.
func (s *FileSink) Flush(context.Context) error {
	s.mu.Lock()
	for s.busy || s.syncing {
		s.cond.Wait()
	}
	if err := s.usable(); err != nil {
		s.mu.Unlock()
		return err
	}
	s.busy = true
	s.mu.Unlock()
	if err := s.checkNow(); err != nil {
		s.release()
		return err
	}
	s.mu.Lock()
	dirty, f := s.dirty, s.f
	s.dirty = false
	s.busy, s.syncing = false, dirty
	s.cond.Broadcast()
	s.mu.Unlock()
	if !dirty {
		return nil
	}
	err := s.cfg.sync(f)
	s.mu.Lock()
	s.syncing = false
	s.cond.Broadcast()
	s.mu.Unlock()
	if err != nil {
		err = fmt.Errorf("audit: fsync %s: %w", s.path, err)
		s.fail(err)
		return err
	}
	return nil
}

// waitSynced waits until no Flush is fsyncing the open file; called by the
// file's owner before it closes the file.
func (s *FileSink) waitSynced() {
	s.mu.Lock()
	for s.syncing {
		s.cond.Wait()
	}
	s.mu.Unlock()
}

// Close writes what is queued and a closing checkpoint, fsyncs and closes
// the file, and waits (within ctx) for the witnesses to take the
// checkpoints. Later writes return ErrClosed.
func (s *FileSink) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	select {
	case <-s.done:
	default:
		close(s.stop)
		<-s.done
	}
	s.own()
	s.mu.Lock()
	batch := s.queue
	s.queue = nil
	failed := s.failed
	s.mu.Unlock()
	var err error
	if failed == nil {
		err = s.commit(batch, "close")
	} else if len(batch) > 0 {
		err = s.commit(batch, "") // fails them all with the sticky error
	}
	s.waitSynced()
	if serr := s.f.Sync(); err == nil && failed == nil {
		err = serr
	}
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	s.release()
	if s.witnessQ != nil {
		close(s.witnessQ)
	}
	select {
	case <-s.witnessed:
	case <-ctx.Done():
		err = errors.Join(err, fmt.Errorf("audit: checkpoints not yet taken by the witnesses: %w", ctx.Err()))
	}
	if err != nil && !errors.Is(err, failed) {
		return fmt.Errorf("audit: close %s: %w", s.path, err)
	}
	return nil
}

// RotatedFiles returns the rotated files of the chain whose active file is
// path, oldest first. Verify(append(RotatedFiles(p), p)...) checks it all.
func RotatedFiles(path string) ([]string, error) {
	prefix, ext := splitExt(path)
	matches, err := filepath.Glob(prefix + ".[0-9][0-9][0-9][0-9][0-9][0-9]*" + ext)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	out := matches[:0]
	for _, m := range matches {
		if rotationIndex(path, m) > 0 {
			out = append(out, m)
		}
	}
	sort.Slice(out, func(i, j int) bool { return rotationIndex(path, out[i]) < rotationIndex(path, out[j]) })
	return out, nil
}

func splitExt(path string) (string, string) {
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext), ext
}

func rotatedName(path string, n int) string {
	prefix, ext := splitExt(path)
	return fmt.Sprintf("%s.%06d%s", prefix, n, ext)
}

func rotationIndex(path, name string) int {
	prefix, ext := splitExt(path)
	mid, ok := strings.CutPrefix(name, prefix+".")
	if !ok {
		return 0
	}
	mid, ok = strings.CutSuffix(mid, ext)
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(mid)
	if err != nil || n < 1 {
		return 0
	}
	return n
}
