package audit

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// VerifyError locates the first break in a chain.
type VerifyError struct {
	File   string
	Line   int
	Reason string
}

func (e *VerifyError) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason)
}

// VerifyResult summarises an intact chain.
type VerifyResult struct {
	Records  int
	FirstSeq uint64
	LastSeq  uint64
	LastHash string
}

// maxLine bounds one record line, so that a corrupt file cannot exhaust
// memory.
const maxLine = 64 << 20

// Verify checks that the files, in the order given (oldest rotated file
// first, the active file last), hold one intact hash chain. It returns a
// *VerifyError at the first altered, removed, reordered or truncated
// record. A chain whose first record is not seq 1 is checked from that
// record on; compare LastSeq and LastHash with a copy kept elsewhere (the
// OpenTelemetry log records carry them) to detect records cut from the end.
func Verify(paths ...string) (VerifyResult, error) {
	var c chain
	var res VerifyResult
	if len(paths) == 0 {
		return res, errors.New("audit: verify: no files given")
	}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return res, fmt.Errorf("audit: verify: %w", err)
		}
		err = verifyReader(p, f, &c, &res)
		f.Close()
		if err != nil {
			return res, err
		}
	}
	res.LastSeq, res.LastHash = c.seq, c.hash
	return res, nil
}

func verifyReader(name string, r io.Reader, c *chain, res *VerifyResult) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for line := 1; ; line++ {
		b, err := readLine(br)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return &VerifyError{File: name, Line: line, Reason: err.Error()}
		}
		if err := c.next(b); err != nil {
			return &VerifyError{File: name, Line: line, Reason: err.Error()}
		}
		if res.Records == 0 {
			res.FirstSeq = c.seq
		}
		res.Records++
	}
}

var errTorn = errors.New("truncated: the last line has no newline (a torn write)")

// readLine returns the next line without its newline; io.EOF at the end,
// errTorn for trailing bytes without a newline.
func readLine(br *bufio.Reader) ([]byte, error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		buf = append(buf, chunk...)
		if len(buf) > maxLine {
			return nil, fmt.Errorf("line longer than %d bytes", maxLine)
		}
		switch {
		case err == nil:
			return bytes.TrimSuffix(buf, []byte("\n")), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF && len(buf) == 0:
			return nil, io.EOF
		case err == io.EOF:
			return nil, errTorn
		default:
			return nil, err
		}
	}
}
