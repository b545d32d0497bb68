package audit

import (
	"bufio"
	"context"
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

// FileOption configures a FileSink.
type FileOption func(*fileConfig)

type fileConfig struct {
	syncEvery     time.Duration
	syncEach      bool
	maxBytes      int64
	logger        *slog.Logger
	checkInterval time.Duration
	now           func() time.Time
}

// WithSyncInterval sets how often written records are fsynced in group
// commit mode (default 200ms). Write returns once its record is written to
// the file (it survives a crash of the process); the interval bounds what a
// power loss can take.
func WithSyncInterval(d time.Duration) FileOption {
	return func(c *fileConfig) { c.syncEvery = d }
}

// WithSyncEachRecord makes Write return only after its record is fsynced.
// Concurrent writes still share one fsync (group commit).
func WithSyncEachRecord() FileOption { return func(c *fileConfig) { c.syncEach = true } }

// WithMaxBytes sets the size at which the file is rotated (default 64 MiB;
// 0 never rotates). The rotated file is renamed NAME.000001.jsonl (for
// NAME.jsonl) and so on, and the chain continues in the new file.
func WithMaxBytes(n int64) FileOption { return func(c *fileConfig) { c.maxBytes = n } }

// WithFileLogger sets where the sink reports recovery and faults (default:
// discarded).
func WithFileLogger(l *slog.Logger) FileOption { return func(c *fileConfig) { c.logger = l } }

// Recovery is what Open found in an existing file.
type Recovery struct {
	// Records is how many intact records the active file held.
	Records int
	// LastSeq is the seq the chain resumes after.
	LastSeq uint64
	// TornBytes is how many bytes of a torn last line (a write cut short
	// by a crash) were cut off; TornLine is its line number.
	TornBytes int64
	TornLine  int
}

// FileSink appends records as JSON lines to a file, sealed in a SHA-256
// hash chain. See the package documentation for the guarantees.
type FileSink struct {
	path string
	cfg  fileConfig

	mu       sync.Mutex
	cond     sync.Cond
	queue    []*fileEntry
	busy     bool // one goroutine owns the file: a committer, the syncer or Close
	closed   bool
	failed   error // sticky: the file was removed or changed under us
	f        *os.File
	size     int64
	seq      uint64
	last     string
	rotated  int
	dirty    bool
	checked  time.Time
	buf      []byte
	recovery Recovery

	stop chan struct{}
	done chan struct{}
}

type fileEntry struct {
	body []byte
	r    *Record
	done bool
	err  error
	// The entry's place in the chain, set while sealing.
	seq        uint64
	prev, hash string
}

// Open opens (or creates) the chain's active file at path, recovering it
// first: a torn last line is cut off and reported, and the chain resumes
// after the last intact record (of the newest rotated file when the
// active one is empty). A record that fails verification is an error:
// the file was altered and needs a person, not a silent new chain.
func Open(path string, opts ...FileOption) (*FileSink, error) {
	cfg := fileConfig{syncEvery: 200 * time.Millisecond, maxBytes: 64 << 20, checkInterval: time.Second, now: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	s := &FileSink{path: path, cfg: cfg, last: GenesisHash, stop: make(chan struct{}), done: make(chan struct{})}
	s.cond.L = &s.mu
	if err := s.recover(); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("audit: %w", err)
	}
	s.f, s.size, s.checked = f, fi.Size(), cfg.now()
	if !cfg.syncEach && cfg.syncEvery > 0 {
		go s.syncLoop()
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
	f, err := os.OpenFile(s.path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		f = nil
	} else if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	var c chain
	if f != nil {
		defer f.Close()
		if err := s.recoverFile(f, &c); err != nil {
			return err
		}
	}
	if !c.started && len(rot) > 0 {
		// An empty active file continues the newest rotated one.
		var res VerifyResult
		rf, err := os.Open(rot[len(rot)-1])
		if err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		err = verifyReader(rf.Name(), rf, &c, &res)
		rf.Close()
		if err != nil {
			return fmt.Errorf("audit: resuming the chain from the newest rotated file: %w", err)
		}
	}
	if c.started {
		s.seq, s.last = c.seq, c.hash
	}
	s.recovery.LastSeq = s.seq
	return nil
}

func (s *FileSink) recoverFile(f *os.File, c *chain) error {
	br := bufio.NewReaderSize(f, 64<<10)
	var good int64
	for line := 1; ; line++ {
		b, err := readLine(br)
		if err == io.EOF {
			return nil
		}
		if errors.Is(err, errTorn) {
			fi, serr := f.Stat()
			if serr != nil {
				return fmt.Errorf("audit: %w", serr)
			}
			if err := f.Truncate(good); err != nil {
				return fmt.Errorf("audit: cutting the torn last line of %s: %w", s.path, err)
			}
			if err := f.Sync(); err != nil {
				return fmt.Errorf("audit: %w", err)
			}
			s.recovery.TornBytes, s.recovery.TornLine = fi.Size()-good, line
			s.cfg.logger.Warn("audit: cut a torn last line left by a crash; the chain resumes from the last intact record",
				"file", s.path, "line", line, "bytes", fi.Size()-good, "resume_after_seq", c.seq)
			return nil
		}
		if err != nil {
			return &VerifyError{File: s.path, Line: line, Reason: err.Error()}
		}
		if err := c.next(b); err != nil {
			return fmt.Errorf("audit: the existing chain is broken, refusing to append to it (move the file aside for investigation): %w",
				&VerifyError{File: s.path, Line: line, Reason: err.Error()})
		}
		good += int64(len(b)) + 1
		s.recovery.Records++
	}
}

// Write appends r to the chain and returns once it is written (and, with
// WithSyncEachRecord, fsynced). On return r's Seq, PrevHash and Hash are
// set. A failed write leaves neither the file nor the chain changed.
func (s *FileSink) Write(ctx context.Context, r *Record) error {
	cp := *r
	cp.Seq, cp.PrevHash, cp.Hash = 0, "", ""
	body, err := cp.AppendJSON(nil)
	if err != nil {
		return fmt.Errorf("audit: encode record: %w", err)
	}
	e := &fileEntry{body: body, r: r}
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
		s.commit(batch)
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

// commit writes a batch; called by the goroutine owning the file.
func (s *FileSink) commit(batch []*fileEntry) {
	err := s.failedErr()
	if err == nil {
		err = s.check()
	}
	seq, last := s.seq, s.last
	buf := s.buf[:0]
	if err == nil {
		for _, e := range batch {
			seq++
			e.seq, e.prev = seq, last
			buf, e.hash = seal(buf, e.body, seq, last)
			last = e.hash
		}
		if s.cfg.maxBytes > 0 && s.size > 0 && s.size+int64(len(buf)) > s.cfg.maxBytes {
			err = s.rotate()
		}
	}
	if err == nil {
		err = s.append(buf)
	}
	if err == nil && s.cfg.syncEach {
		if err = s.f.Sync(); err != nil {
			err = fmt.Errorf("audit: fsync %s: %w", s.path, err)
		}
	}
	if cap(buf) <= 1<<20 {
		s.buf = buf
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range batch {
		e.done = true
		if err != nil {
			e.err = err
			continue
		}
		e.r.Seq, e.r.PrevHash, e.r.Hash = e.seq, e.prev, e.hash
	}
	if err == nil {
		s.seq, s.last = seq, last
		s.dirty = !s.cfg.syncEach
	}
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

// check detects, at most once per check interval, a file removed, replaced,
// truncated or appended to by someone else: after that the chain on disk
// is not ours to extend.
func (s *FileSink) check() error {
	now := s.cfg.now()
	if now.Sub(s.checked) < s.cfg.checkInterval {
		return nil
	}
	s.checked = now
	return s.checkNow()
}

func (s *FileSink) checkNow() error {
	onDisk, err := os.Stat(s.path)
	if err != nil {
		err = fmt.Errorf("audit: %s was removed under the server: %w", s.path, err)
		s.fail(err)
		return err
	}
	mine, err := s.f.Stat()
	if err != nil {
		err = fmt.Errorf("audit: %w", err)
		s.fail(err)
		return err
	}
	if !os.SameFile(onDisk, mine) {
		err = fmt.Errorf("audit: %s was replaced under the server", s.path)
		s.fail(err)
		return err
	}
	if mine.Size() != s.size {
		err = fmt.Errorf("audit: %s was modified under the server (size %d, expected %d)", s.path, mine.Size(), s.size)
		s.fail(err)
		return err
	}
	return nil
}

// rotate closes the active file under a rotated name and starts a new one;
// the chain continues across the two.
func (s *FileSink) rotate() error {
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("audit: fsync before rotation: %w", err)
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
	s.f.Close()
	s.f, s.size, s.rotated = f, 0, s.rotated+1
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

func (s *FileSink) syncLoop() {
	defer close(s.done)
	t := time.NewTicker(s.cfg.syncEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			_ = s.Flush(context.Background())
		}
	}
}

// Flush fsyncs what has been written and checks that the file is still
// the one the chain is in.
func (s *FileSink) Flush(context.Context) error {
	s.own()
	defer s.release()
	if err := s.failedErr(); err != nil {
		return err
	}
	if err := s.checkNow(); err != nil {
		return err
	}
	s.mu.Lock()
	dirty := s.dirty
	s.dirty = false
	s.mu.Unlock()
	if !dirty {
		return nil
	}
	if err := s.f.Sync(); err != nil {
		err = fmt.Errorf("audit: fsync %s: %w", s.path, err)
		s.fail(err)
		return err
	}
	return nil
}

// Close waits for writes in progress, fsyncs and closes the file. Later
// writes return ErrClosed.
func (s *FileSink) Close(context.Context) error {
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
	defer s.release()
	err := s.f.Sync()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
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
