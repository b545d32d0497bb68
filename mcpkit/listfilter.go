package mcpkit

import (
	"context"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// receive is the server's receiving middleware: it refuses oversized client
// info (see MaxClientInfo), filters tools/list
// through the gates and sends calls to tools mcpkit does not know through
// the outer chain, so that they too are audited.
func (s *Server) receive(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		ci, err := checkClientInfo(req)
		if err != nil {
			return nil, err
		}
		switch method {
		case "tools/list":
			ctx = withClientInfo(ctx, req, ci)
			var res mcp.Result
			if len(s.gates) == 0 {
				res, err = next(ctx, method, req)
			} else {
				res, err = s.filterList(ctx, method, req, next)
			}
			if lr, ok := res.(*mcp.ListToolsResult); ok && err == nil && lr != nil {
				s.setListCaching(lr)
			}
			return res, err
		case "tools/call":
			ctx = withClientInfo(ctx, req, ci)
			p, ok := req.GetParams().(*mcp.CallToolParamsRaw)
			if !ok || p == nil {
				return next(ctx, method, req)
			}
			if _, known := s.tool(p.Name); known {
				return next(ctx, method, req)
			}
			return s.callUnregistered(ctx, method, req, p, next)
		}
		return next(ctx, method, req)
	}
}

// filterList removes from a tools/list page every tool a gate refuses the
// caller, with the same gates and identity a call would meet.
func (s *Server) filterList(ctx context.Context, method string, req mcp.Request, next mcp.MethodHandler) (mcp.Result, error) {
	res, err := next(ctx, method, req)
	if err != nil {
		return res, err
	}
	lr, ok := res.(*mcp.ListToolsResult)
	if !ok || lr == nil {
		return res, err
	}
	id, idErr := s.safeIdentityFor(ctx, req)
	out := *lr
	out.Tools = make([]*mcp.Tool, 0, len(lr.Tools))
	if idErr != nil {
		// No identity: show nothing rather than guess.
		s.logger.Warn("tools/list: identity not established", "error", idErr)
		return &out, nil
	}
	c := &Call{Identity: id, Server: s.impl}
	if sr, ok := req.(*mcp.ListToolsRequest); ok {
		c.ProtocolVersion = sr.ProtocolVersion()
		if sr.Session != nil {
			c.SessionID = sr.Session.ID()
		}
	}
	for _, t := range lr.Tools {
		info, mine := s.tool(t.Name)
		if !mine {
			// Not registered through mcpkit: no policy to judge it by.
			out.Tools = append(out.Tools, t)
			continue
		}
		c.Tool = info
		if s.visible(ctx, c) {
			out.Tools = append(out.Tools, t)
		}
	}
	return &out, nil
}

// visible asks every gate; a gate that errors or panics hides the tool.
func (s *Server) visible(ctx context.Context, c *Call) (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			s.logger.Error("tools/list: gate panicked", "tool", c.Tool.Name, "panic", fmt.Sprint(v))
			ok = false
		}
	}()
	for _, g := range s.gates {
		if g.Check(ctx, c) != nil {
			return false
		}
	}
	return true
}
