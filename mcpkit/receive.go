package mcpkit

import (
	"context"
	"errors"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TokenInfoIdentityKey is the auth.TokenInfo.Extra key under which a
// transport's token verifier stores the caller's Identity.
const TokenInfoIdentityKey = "mcpkit.identity"

// receive is the server's receiving middleware: it refuses oversized client
// info (see MaxClientInfo), filters tools/list
// through the gates and sends calls to tools mcpkit does not know through
// the outer chain, so that they too are audited.
func (s *Server) receive(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if err := checkClientInfo(req); err != nil {
			return nil, err
		}
		switch method {
		case "tools/list":
			if len(s.gates) == 0 {
				return next(ctx, method, req)
			}
			return s.filterList(ctx, method, req, next)
		case "tools/call":
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

// callUnregistered runs a call to a tool mcpkit did not register through the
// outer chain. The SDK answers it: an unknown tool becomes a JSON-RPC error
// recorded as OutcomeUnknownTool; a tool added to the *mcp.Server directly
// runs as it would without mcpkit.
func (s *Server) callUnregistered(ctx context.Context, method string, req mcp.Request, p *mcp.CallToolParamsRaw, next mcp.MethodHandler) (mcp.Result, error) {
	ctr, _ := req.(*mcp.CallToolRequest)
	info := &ToolInfo{Name: p.Name, Unknown: true}
	c := s.newCall(ctx, info, ctr)
	ctx = context.WithValue(ctx, callKey{}, c)
	terminal := func(ctx context.Context, c *Call) (*mcp.CallToolResult, error) {
		res, err := next(ctx, method, req)
		cr, _ := res.(*mcp.CallToolResult)
		if err != nil || cr == nil {
			var we *jsonrpc.Error
			if errors.As(err, &we) && we.Code == jsonrpc.CodeInvalidParams {
				c.SetOutcome(OutcomeUnknownTool, err)
			} else {
				c.SetOutcome(OutcomeToolError, err)
			}
			if err == nil {
				err = errors.New("no result")
			}
			return nil, err
		}
		if cr.IsError {
			c.SetOutcome(OutcomeToolError, nil)
		}
		return cr, nil
	}
	if err := s.establish(ctx, c, req); err != nil {
		terminal = func(context.Context, *Call) (*mcp.CallToolResult, error) { return c.Fail(err), nil }
	}
	res, err := s.wrapOuter(terminal)(ctx, c)
	if res == nil {
		// Never hand the SDK a typed nil inside a non-nil interface.
		return nil, err
	}
	return res, err
}

// safeIdentityFor is identityFor with a panicking resolver turned into an
// error.
func (s *Server) safeIdentityFor(ctx context.Context, req mcp.Request) (id Identity, err error) {
	defer func() {
		if v := recover(); v != nil {
			id, err = Identity{}, &PanicError{Value: v}
		}
	}()
	return s.identityFor(ctx, req)
}

// identityFor establishes the caller of req: the configured resolver if
// any; else an identity a transport put on the context or the token; else
// the server's default identity. Client name and version come from the
// request when the transport did not set them.
func (s *Server) identityFor(ctx context.Context, req mcp.Request) (Identity, error) {
	var id Identity
	switch {
	case s.resolver != nil:
		var err error
		if id, err = s.resolver(ctx, req); err != nil {
			return Identity{}, err
		}
	default:
		if got, ok := IdentityFromContext(ctx); ok {
			id = got
		} else if got, ok := identityFromToken(req); ok {
			id = got
		} else {
			id = s.identity
		}
	}
	if id.ClientName == "" {
		if ci := clientInfo(req); ci != nil {
			id.ClientName, id.ClientVersion = ci.Name, ci.Version
		}
	}
	return id, nil
}

func identityFromToken(req mcp.Request) (Identity, bool) {
	extra := req.GetExtra()
	if extra == nil || extra.TokenInfo == nil {
		return Identity{}, false
	}
	return IdentityFromTokenInfo(extra.TokenInfo), true
}

// IdentityFromTokenInfo reads the identity a verifier stored in ti, or
// builds a minimal one from its user id and scopes.
func IdentityFromTokenInfo(ti *auth.TokenInfo) Identity {
	if id, ok := ti.Extra[TokenInfoIdentityKey].(Identity); ok {
		return id
	}
	return Identity{Subject: ti.UserID, Scopes: ti.Scopes, AuthMethod: "bearer", Transport: "http"}
}

func clientInfo(req mcp.Request) *mcp.Implementation {
	switch r := req.(type) {
	case *mcp.CallToolRequest:
		return r.ClientInfo()
	case *mcp.ListToolsRequest:
		return r.ClientInfo()
	}
	return nil
}
