package audit

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// Auditor records every tool call to a sink and traces it. Install its
// Middleware outermost with mcpkit.WithMiddleware.
type Auditor struct {
	sink      Sink
	cfg       config
	tel       *telemetry
	unwritten atomic.Uint64
	refusals  *refusalAggregator
	limited   *limitedAggregator
}

// New returns an Auditor writing to sink.
func New(sink Sink, opts ...Option) (*Auditor, error) {
	var cfg config
	if sink == nil {
		cfg.errs = append(cfg.errs, errors.New("audit: New needs a sink, got nil"))
	}
	for _, o := range opts {
		o(&cfg)
	}
	if err := errors.Join(cfg.errs...); err != nil {
		return nil, err
	}
	cfg.errs = nil
	if cfg.redactor == nil {
		cfg.redactor = defaultRedactor()
	}
	if cfg.tp == nil {
		cfg.tp = otel.GetTracerProvider()
	}
	if cfg.mp == nil {
		cfg.mp = otel.GetMeterProvider()
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	a := &Auditor{sink: sink, cfg: cfg, tel: newTelemetry(cfg.tp, cfg.mp, cfg.redactor)}
	a.refusals = newRefusalAggregator(cfg.refusals, a.writeRefusal)
	a.limited = newLimitedAggregator(cfg.refusals, a.writeRefusal)
	return a, nil
}

// Middleware is New(sink, opts...).Middleware(), for a server that needs
// nothing else from the Auditor.
func Middleware(sink Sink, opts ...Option) (mcpkit.Middleware, error) {
	a, err := New(sink, opts...)
	if err != nil {
		return nil, err
	}
	return a.Middleware(), nil
}

// Unwritten returns how many records the sink did not take.
func (a *Auditor) Unwritten() uint64 { return a.unwritten.Load() }

// Middleware returns the audit middleware: one SERVER span and one final
// record per call, whatever the outcome, plus a write-ahead start record
// for write and destructive tools.
func (a *Auditor) Middleware() mcpkit.Middleware {
	return func(next mcpkit.Handler) mcpkit.Handler {
		next = a.tel.watch(next)
		return func(ctx context.Context, c *mcpkit.Call) (*mcp.CallToolResult, error) {
			ctx, span := a.tel.start(ctx, c)
			rec := a.begin(c, span)
			risky := !c.Tool.Unknown && (c.Tool.Policy.Risk == mcpkit.Write || c.Tool.Policy.Risk == mcpkit.Destructive)
			if risky {
				// Written just before the handler runs, after every gate,
				// the validation and approval: a call refused or answered
				// before that leaves no start record.
				c.BeforeRun(func(ctx context.Context, c *mcpkit.Call) error {
					start := *rec
					start.Phase = PhaseStart
					if werr := a.sink.Write(ctx, &start); werr != nil {
						a.lost(ctx, &start, werr)
						return &mcpkit.Error{
							Code:    mcpkit.CodeUnavailable,
							Message: fmt.Sprintf("%s was not run: the audit log cannot record the call right now, and changes are never made unaudited; try again later", c.Tool.Label()),
							Cause:   fmt.Errorf("audit write-ahead record: %w", werr),
						}
					}
					return nil
				})
			}
			res, err := next(ctx, c)
			a.complete(c, rec, res, span)
			if c.Outcome() == mcpkit.OutcomeDeniedRate && a.limited.absorb(rec) {
				// Counted into a summary record (ratelimited.go).
				a.tel.finish(ctx, res, err)
				return res, err
			}
			if werr := a.sink.Write(ctx, rec); werr != nil {
				a.lost(ctx, rec, werr)
				if !risky && !a.cfg.failOpen && res != nil {
					// Nothing changed, but nothing is disclosed unaudited
					// either.
					res, err = c.Fail(&mcpkit.Error{
						Code:    mcpkit.CodeUnavailable,
						Message: fmt.Sprintf("%s: the result was withheld because the audit log cannot record the call right now; try again later", c.Tool.Label()),
						Cause:   fmt.Errorf("audit record: %w", werr),
					}), nil
				}
			}
			a.tel.finish(ctx, res, err)
			return res, err
		}
	}
}

// lost counts and logs a record the sink did not take, in full (it is
// already redacted), so that an operator can recover it from the logs.
func (a *Auditor) lost(ctx context.Context, r *Record, err error) {
	a.unwritten.Add(1)
	a.tel.unwritten.Add(ctx, 1)
	b, _ := json.Marshal(r)
	a.cfg.logger.LogAttrs(ctx, slog.LevelError, "audit: record not written",
		slog.String("error", err.Error()), slog.String("record", string(b)))
}

// begin builds the part of the record known before the call runs.
func (a *Auditor) begin(c *mcpkit.Call, span trace.Span) *Record {
	red := a.cfg.redactor
	r := &Record{
		ID:              newID(),
		Time:            Time{c.Start.UTC()},
		SessionID:       red.Identifier(c.SessionID),
		ProtocolVersion: red.Identifier(c.ProtocolVersion),
		RequestID:       red.Identifier(c.RequestID),
		Tool:            a.toolName(c),
		Operation:       operationOf(c),
		Target:          a.target(c),
		Principal:       principalOf(red, c.Identity),
	}
	if c.Server != nil {
		r.Server = ServerInfo{Name: c.Server.Name, Version: c.Server.Version}
	}
	if c.Tool.Policy.Risk.Valid() {
		r.Risk = c.Tool.Policy.Risk.String()
	}
	r.Arguments = red.JSON(c.Arguments, c.Tool.Redact)
	r.redacted.mark(r.Arguments)
	if sc := span.SpanContext(); sc.IsValid() {
		r.TraceID, r.SpanID = sc.TraceID().String(), sc.SpanID().String()
	}
	return r
}

// complete fills in how the call ended.
func (a *Auditor) complete(c *mcpkit.Call, r *Record, res *mcp.CallToolResult, _ trace.Span) {
	red := a.cfg.redactor
	r.Outcome = string(c.Outcome())
	if err := c.Err(); err != nil {
		msg := err.Error()
		var me *mcpkit.Error
		if errors.As(err, &me) && me.Cause != nil {
			msg = me.Message + ": " + me.Cause.Error()
		}
		if st := c.PanicStack(); len(st) > 0 {
			msg += "\n" + string(st)
		}
		r.Error = red.String(msg)
	}
	if res != nil {
		r.Result = a.result(c, res)
		r.redacted.mark(r.Result)
	}
	if ap := c.Approval; ap != nil {
		r.Approval = &Approval{Approver: ap.Approver, Decision: ap.Decision, Reason: red.String(ap.Reason), LatencyMS: millis(ap.Latency)}
	}
	r.DurationMS = millis(time.Since(c.Start))
}

// result renders what the client received: the structured content when
// there is some, else the content blocks (text kept, other kinds by type
// and size). The structured content is redacted in one pass over the bytes
// the client was sent; nothing is decoded into a tree.
func (a *Auditor) result(c *mcpkit.Call, res *mcp.CallToolResult) json.RawMessage {
	red := a.cfg.redactor
	if a.cfg.digestOnly[c.Tool.Name] && !res.IsError {
		return resultDigest(res)
	}
	if res.StructuredContent != nil && !res.IsError {
		raw, ok := res.StructuredContent.(json.RawMessage)
		if !ok {
			b, err := json.Marshal(res.StructuredContent)
			if err != nil {
				return red.JSON(appendJSONString(nil, fmt.Sprintf("[unencodable result: %v]", err)), nil)
			}
			raw = b
		}
		return red.JSON(raw, c.Tool.Redact)
	}
	// {"content":[...],"is_error":...}, each text block redacted as a
	// string.
	b := make([]byte, 0, 64)
	b = append(b, `{"content":[`...)
	for i, ct := range res.Content {
		if i > 0 {
			b = append(b, ',')
		}
		switch x := ct.(type) {
		case *mcp.TextContent:
			b = appendJSONString(b, red.String(x.Text))
		case *mcp.ImageContent:
			b = fmt.Appendf(b, `{"bytes":%d,"mime_type":%s,"type":"image"}`, len(x.Data), appendJSONString(nil, x.MIMEType))
		case *mcp.AudioContent:
			b = fmt.Appendf(b, `{"bytes":%d,"mime_type":%s,"type":"audio"}`, len(x.Data), appendJSONString(nil, x.MIMEType))
		default:
			b = fmt.Appendf(b, `{"type":%s}`, appendJSONString(nil, fmt.Sprintf("%T", ct)))
		}
	}
	b = append(b, `],"is_error":`...)
	b = strconv.AppendBool(b, res.IsError)
	return red.limit(append(b, '}'))
}

// resultDigest is the size and SHA-256 of what the client received: the
// structured content when there is some, else the text blocks in order.
func resultDigest(res *mcp.CallToolResult) json.RawMessage {
	h := sha256.New()
	n := 0
	if raw, ok := res.StructuredContent.(json.RawMessage); ok {
		h.Write(raw)
		n = len(raw)
	} else if res.StructuredContent != nil {
		b, _ := json.Marshal(res.StructuredContent)
		h.Write(b)
		n = len(b)
	} else {
		for _, ct := range res.Content {
			if x, ok := ct.(*mcp.TextContent); ok {
				h.Write([]byte(x.Text))
				n += len(x.Text)
			}
		}
	}
	return fmt.Appendf(nil, `{"digest_only":true,"length":%d,"sha256":"%x"}`, n, h.Sum(nil))
}

func clientString(id mcpkit.Identity) string {
	if id.ClientVersion == "" {
		return id.ClientName
	}
	return id.ClientName + "/" + id.ClientVersion
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms.
	return hex.EncodeToString(b[:])
}
