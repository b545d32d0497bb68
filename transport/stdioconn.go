package transport

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/internal/wire"
	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// lineTransport is an mcp.Transport over newline-delimited JSON that, unlike
// the SDK's IOTransport, answers every request it has read before it reports
// end of input: `printf '<initialize>\n<tools/call>\n' | server` gets both
// answers. A malformed line gets a JSON-RPC parse error and the connection
// keeps serving, instead of ending the session.
type lineTransport struct {
	r        io.Reader
	w        io.Writer
	maxLine  int
	drain    time.Duration
	logger   *slog.Logger
	shutdown <-chan struct{}
	identity mcpkit.Identity
	onReject func(context.Context, Rejection)
}

func (t *lineTransport) Connect(ctx context.Context) (mcp.Connection, error) {
	c := &lineConn{
		ctx:      context.WithoutCancel(ctx),
		w:        t.w,
		drain:    t.drain,
		logger:   t.logger,
		shutdown: t.shutdown,
		identity: t.identity,
		onReject: t.onReject,
		incoming: make(chan lineOrErr),
		closed:   make(chan struct{}),
		pending:  map[jsonrpc.ID]struct{}{},
		idle:     make(chan struct{}, 1),
	}
	go c.readLoop(bufio.NewReaderSize(t.r, 64<<10), t.maxLine)
	return c, nil
}

type lineOrErr struct {
	line []byte
	err  error
}

type lineConn struct {
	ctx      context.Context // the session's, for the reject hook
	w        io.Writer
	drain    time.Duration
	logger   *slog.Logger
	shutdown <-chan struct{}
	identity mcpkit.Identity
	onReject func(context.Context, Rejection)

	incoming chan lineOrErr
	closeMu  sync.Once
	closed   chan struct{}

	writeMu sync.Mutex

	mu      sync.Mutex
	pending map[jsonrpc.ID]struct{} // requests read and not yet answered
	idle    chan struct{}           // signalled when pending drops to zero
}

// readLoop reads lines in its own goroutine so that Close can unblock Read
// (a read of stdin itself cannot be interrupted portably).
func (c *lineConn) readLoop(r *bufio.Reader, maxLine int) {
	for {
		line, err := readLine(r, maxLine)
		select {
		case c.incoming <- lineOrErr{line: line, err: err}:
		case <-c.closed:
			return
		}
		if err != nil && !errors.Is(err, errLineTooLong) {
			return
		}
	}
}

var errLineTooLong = errors.New("message exceeds the maximum line length")

// readLine returns the next non-empty line without its terminator. A line
// longer than max is consumed and reported as errLineTooLong.
func readLine(r *bufio.Reader, max int) ([]byte, error) {
	for {
		var buf []byte
		tooLong := false
		for {
			frag, err := r.ReadSlice('\n')
			if !tooLong {
				if len(buf)+len(frag) > max+2 { // +2 for \r\n
					tooLong, buf = true, nil
				} else {
					buf = append(buf, frag...)
				}
			}
			if errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			if err != nil {
				if tooLong {
					return nil, errLineTooLong
				}
				if len(bytes.TrimSpace(buf)) > 0 && errors.Is(err, io.EOF) {
					// A last message without a trailing newline still counts.
					return bytes.TrimSpace(buf), nil
				}
				return nil, err
			}
			break
		}
		if tooLong {
			return nil, errLineTooLong
		}
		if line := bytes.TrimSpace(buf); len(line) > 0 {
			return line, nil
		}
	}
}

func (c *lineConn) Read(ctx context.Context) (jsonrpc.Message, error) {
	for {
		var v lineOrErr
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-c.closed:
			return nil, io.EOF
		case v = <-c.incoming:
		}
		if v.err != nil {
			if errors.Is(v.err, errLineTooLong) {
				c.reject(jsonrpc.CodeInvalidRequest, v.err.Error())
				continue
			}
			c.waitAnswered()
			return nil, v.err
		}
		msg, err := jsonrpc.DecodeMessage(v.line)
		if err != nil {
			// Most likely a batch (unsupported) or not JSON-RPC at all.
			// Like a malformed HTTP body, it goes on the record: nothing
			// else will (the SDK never sees it).
			if len(v.line) > 0 && v.line[0] == '[' {
				msg := "JSON-RPC batches are not supported; send one message per line"
				c.reject(jsonrpc.CodeInvalidRequest, msg)
				c.rejectHook(jsonrpc.CodeInvalidRequest, "JSON-RPC batch on stdio", msg)
			} else {
				if wire.DepthExceeds(v.line, maxJSONDepth) {
					err = errTooDeep
				}
				msg := "not a JSON-RPC message: " + describeDecodeError(err)
				c.reject(jsonrpc.CodeParseError, msg)
				c.rejectHook(jsonrpc.CodeParseError, "malformed JSON-RPC message: "+describeDecodeError(err), msg)
			}
			continue
		}
		if n := idLen(messageID(msg)); n > MaxRequestID {
			c.reject(jsonrpc.CodeInvalidRequest, longIDMessage(n))
			if c.onReject != nil {
				id := c.identity
				c.onReject(c.ctx, Rejection{Status: http.StatusBadRequest, Reason: fmt.Sprintf("JSON-RPC id too long (%d bytes)", n), Identity: &id,
					code: jsonrpc.CodeInvalidRequest, Code: jsonrpc.CodeInvalidRequest, Message: longIDMessage(n)})
			}
			continue
		}
		req, ok := msg.(*jsonrpc.Request)
		if ok && req.Method == methodToolsCall && !c.forwardCall(req) {
			continue
		}
		if ok && namedMethods[req.Method] {
			c.noteUndecodable(req)
		}
		if ok && req.ID.IsValid() {
			c.mu.Lock()
			c.pending[req.ID] = struct{}{}
			c.mu.Unlock()
		}
		return msg, nil
	}
}

// forwardCall decodes a tools/call's params as the SDK will and rewrites
// them as on HTTP (forwardParams: the library's _meta keys the client sent
// are removed, the request id is stamped). Params that do not decode are
// answered here with a plain message and reported to the reject hook; it
// then returns false and the message goes no further.
func (c *lineConn) forwardCall(req *jsonrpc.Request) bool {
	p, err := decodeCallParams(req.Params)
	if err == nil {
		err = forwardRequest(req, p)
	}
	if err == nil {
		return true
	}
	reason := "tools/call params could not be decoded: " + describeDecodeError(err)
	c.logger.Warn("stdio: undecodable tools/call", "error", reason)
	if c.onReject != nil {
		id := c.identity
		c.onReject(c.ctx, Rejection{Status: http.StatusBadRequest, Reason: reason, Identity: &id})
	}
	c.write(&jsonrpc.Response{ID: req.ID, Error: &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: invalidCallMessage}})
	return false
}

// noteUndecodable reports to the reject hook a resources/read or
// prompts/get whose params the SDK will refuse to decode (a URI that is not
// a string, a prompt argument that is not one): the SDK answers it before
// any server code runs, so without this it would leave no record. The
// message still goes to the SDK, whose answer the client gets unchanged.
func (c *lineConn) noteUndecodable(req *jsonrpc.Request) {
	if _, ok := paramsName(req.Method, req.Params); ok || c.onReject == nil {
		return
	}
	id := c.identity
	var rid string
	if req.ID.IsValid() {
		rid = fmt.Sprint(req.ID.Raw())
	}
	c.onReject(c.ctx, Rejection{Status: http.StatusBadRequest, Identity: &id, Method: req.Method, RequestID: rid,
		Reason: req.Method + " params could not be decoded (a field of the wrong type, or not an object)"})
}

// waitAnswered holds back end of input until every request already read has
// been answered, the drain bound passes, the server shuts down, or the
// connection closes.
func (c *lineConn) waitAnswered() {
	timer := time.NewTimer(c.drain)
	defer timer.Stop()
	for {
		c.mu.Lock()
		n := len(c.pending)
		c.mu.Unlock()
		if n == 0 {
			return
		}
		select {
		case <-c.idle:
		case <-timer.C:
			c.logger.Warn("stdio: input closed; gave up waiting for in-flight requests", "pending", n, "waited", c.drain)
			return
		case <-c.shutdown:
			return
		case <-c.closed:
			return
		}
	}
}

// reject answers a line the server cannot use, without an id (JSON-RPC
// says null when the id could not be read).
func (c *lineConn) reject(code int64, msg string) {
	c.logger.Warn("stdio: rejected input", "error", msg)
	c.write(&jsonrpc.Response{Error: &jsonrpc.Error{Code: code, Message: msg}})
}

// rejectHook reports a line the transport answered itself to the reject
// hook, as the HTTP transport reports a malformed body.
func (c *lineConn) rejectHook(code int64, reason, msg string) {
	if c.onReject == nil {
		return
	}
	id := c.identity
	c.onReject(c.ctx, Rejection{Status: http.StatusBadRequest, Reason: reason, Identity: &id, code: code, Code: code, Message: msg})
}

// write sends a message the transport answers itself.
func (c *lineConn) write(resp *jsonrpc.Response) {
	data, err := jsonrpc.EncodeMessage(resp)
	if err != nil {
		return
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	_, _ = c.w.Write(append(data, '\n'))
}

func (c *lineConn) Write(ctx context.Context, msg jsonrpc.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	data, err := jsonrpc.EncodeMessage(msg)
	if err != nil {
		return fmt.Errorf("encode message: %w", err)
	}
	c.writeMu.Lock()
	_, err = c.w.Write(append(data, '\n'))
	c.writeMu.Unlock()
	if resp, ok := msg.(*jsonrpc.Response); ok {
		c.mu.Lock()
		delete(c.pending, resp.ID)
		empty := len(c.pending) == 0
		c.mu.Unlock()
		if empty {
			select {
			case c.idle <- struct{}{}:
			default:
			}
		}
	}
	return err
}

func (c *lineConn) Close() error {
	c.closeMu.Do(func() { close(c.closed) })
	return nil
}

func (c *lineConn) SessionID() string { return "" }
