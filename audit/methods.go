package audit

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/mcpkit-go/mcpkit/internal/wire"
	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// Instrument traces every MCP request and notification s receives
// (initialize, ping, tools/list, tools/call, resources, prompts, ...) with
// one SERVER span and one mcp.server.operation.duration point each, and
// records mcp.server.session.duration when a session that began with
// initialize ends. Call it once per server, after mcpkit.NewServer (its
// middleware then runs first). The Auditor's tool-call middleware joins the
// tools/call operation instead of opening its own, so the audit record
// carries the same trace and span.
func (a *Auditor) Instrument(s *mcp.Server) {
	s.AddReceivingMiddleware(a.receive)
}

func (a *Auditor) receive(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		in := opInfo{method: method, start: time.Now()}
		if req != nil {
			if s := req.GetSession(); s != nil {
				in.sessionID = s.ID()
			}
			if pv, ok := req.(interface{ ProtocolVersion() string }); ok {
				in.protocol = pv.ProtocolVersion()
			}
			in.meta = metaOf(req)
			in.requestID, _ = in.meta[wire.MetaRequestID].(string)
			in.net, _ = mcpkit.NetworkFor(ctx, req)
		}
		ctx, op := a.tel.open(ctx, in)
		res, err := next(ctx, method, req)
		if ir, ok := res.(*mcp.InitializeResult); ok && err == nil && ir != nil {
			// The version the server answered with is the session's.
			op.span.SetAttributes(attribute.String(attrProtocol, ir.ProtocolVersion))
			op.metric = append(op.metric, attribute.String(attrProtocol, ir.ProtocolVersion))
			if ss, ok := req.GetSession().(*mcp.ServerSession); ok {
				a.tel.watchSession(ss, in.start, ir.ProtocolVersion, in.net)
			}
		}
		a.tel.close(ctx, op, res, err)
		return res, err
	}
}

// watchSession records mcp.server.session.duration when ss ends. Only
// sessions that begin with initialize are measured: stateless HTTP and
// protocol 2026-07-28 have no session to measure. The goroutine lives as
// long as the session.
func (t *telemetry) watchSession(ss *mcp.ServerSession, start time.Time, protocol string, n mcpkit.Network) {
	attrs := append([]attribute.KeyValue{attribute.String(attrProtocol, protocol)}, netAttrs(n)...)
	go func() {
		err := ss.Wait()
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, mcp.ErrConnectionClosed) && !errors.Is(err, context.Canceled) {
			attrs = append(attrs, attribute.String(attrErrorType, errorTypeOther))
		}
		t.sessions.Record(context.Background(), time.Since(start).Seconds(), metric.WithAttributes(attrs...))
	}()
}

// metaOf returns a request's _meta; params the SDK left nil have none.
func metaOf(req mcp.Request) (m mcp.Meta) {
	defer func() {
		if recover() != nil {
			m = nil
		}
	}()
	p := req.GetParams()
	if p == nil {
		return nil
	}
	return p.GetMeta()
}
