package mcpkit

import (
	"context"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// receive is the server's receiving middleware: it refuses oversized client
// info (see MaxClientInfo), filters the tool, resource, template and prompt
// lists through the gates, sends calls, reads and gets naming something
// mcpkit does not know through the outer chain, so that they too are
// audited, and decides resource subscriptions and completions as the read
// or get they concern (subscribe.go, complete.go).
func (s *Server) receive(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		ci, err := checkClientInfo(req)
		if err != nil {
			return nil, err
		}
		switch method {
		case "tools/list", "resources/list", "resources/templates/list", "prompts/list":
			ctx = withClientInfo(ctx, req, ci)
			res, err := next(ctx, method, req)
			if err != nil || res == nil {
				return res, err
			}
			return s.filterList(ctx, Operation(method), req, res), nil
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
		case "resources/read":
			ctx = withClientInfo(ctx, req, ci)
			p, ok := req.GetParams().(*mcp.ReadResourceParams)
			rr, isRead := req.(*mcp.ReadResourceRequest)
			if !ok || p == nil || !isRead {
				return next(ctx, method, req)
			}
			if _, known := s.resourceByURI(p.URI); known {
				return next(ctx, method, req)
			}
			if t, known := s.templateFor(p.URI); known {
				// Served here rather than through the SDK's own template
				// matching, which may refuse (unaudited) a URI the
				// template's chain must refuse and record, such as one
				// with a malformed percent-encoding.
				res, err := s.resourceHandlerFor(t)(ctx, rr)
				if res == nil {
					return nil, err
				}
				return res, err
			}
			return s.unregisteredEntry(ctx, method, req, OpReadResource, p.URI, next)
		case "prompts/get":
			ctx = withClientInfo(ctx, req, ci)
			p, ok := req.GetParams().(*mcp.GetPromptParams)
			if !ok || p == nil {
				return next(ctx, method, req)
			}
			if _, known := s.prompt(p.Name); known {
				return next(ctx, method, req)
			}
			return s.unregisteredEntry(ctx, method, req, OpGetPrompt, p.Name, next)
		case "resources/subscribe", "resources/unsubscribe":
			ctx = withClientInfo(ctx, req, ci)
			if !s.subscribeOn {
				return next(ctx, method, req) // method not found
			}
			var uri string
			switch p := req.GetParams().(type) {
			case *mcp.SubscribeParams:
				if p == nil {
					return next(ctx, method, req)
				}
				uri = p.URI
			case *mcp.UnsubscribeParams:
				if p == nil {
					return next(ctx, method, req)
				}
				uri = p.URI
			default:
				return next(ctx, method, req)
			}
			return s.subscribe(ctx, method, req, uri, next)
		case "subscriptions/listen":
			ctx = withClientInfo(ctx, req, ci)
			p, ok := req.GetParams().(*mcp.SubscriptionsListenParams)
			if !ok || p == nil || !s.subscribeOn {
				// Without subscriptions the SDK acknowledges no resource.
				return next(ctx, method, req)
			}
			return s.listen(ctx, method, req, p, next)
		case "completion/complete":
			ctx = withClientInfo(ctx, req, ci)
			p, ok := req.GetParams().(*mcp.CompleteParams)
			if !ok || p == nil || p.Ref == nil || !s.completeOn {
				// The SDK refuses a completion without a ref, and answers
				// method not found when completions are off.
				return next(ctx, method, req)
			}
			return s.complete(ctx, method, req, p, next)
		}
		return next(ctx, method, req)
	}
}

// filterList removes from a list page every entry a gate refuses the
// caller, with the same gates and identity a call, read or get would meet,
// and sets the page's cache fields. Entries added to the SDK server
// directly have no policy to judge them by and stay.
func (s *Server) filterList(ctx context.Context, op Operation, req mcp.Request, res mcp.Result) mcp.Result {
	var c *Call
	established := false
	show := func(info *ToolInfo, mine bool) bool {
		if !mine || len(s.gates) == 0 {
			return true
		}
		if c == nil {
			c, established = s.listCall(ctx, op, req)
		}
		if !established {
			// No identity: show nothing rather than guess.
			return false
		}
		c.Tool, c.Target = info, info.Name
		if info.Kind == KindResource || info.Kind == KindResourceTemplate {
			c.Target = info.URI
		}
		return s.visible(ctx, c)
	}
	switch r := res.(type) {
	case *mcp.ListToolsResult:
		out := *r
		out.Tools = keep(r.Tools, func(t *mcp.Tool) bool { info, ok := s.tool(t.Name); return show(info, ok) })
		s.setCaching(&out.Cacheable, true)
		return &out
	case *mcp.ListResourcesResult:
		out := *r
		out.Resources = keep(r.Resources, func(x *mcp.Resource) bool { info, ok := s.resourceByURI(x.URI); return show(info, ok) })
		s.setCaching(&out.Cacheable, true)
		return &out
	case *mcp.ListResourceTemplatesResult:
		out := *r
		out.ResourceTemplates = keep(r.ResourceTemplates, func(x *mcp.ResourceTemplate) bool {
			info, ok := s.templateByPattern(x.URITemplate)
			return show(info, ok)
		})
		s.setCaching(&out.Cacheable, true)
		return &out
	case *mcp.ListPromptsResult:
		out := *r
		out.Prompts = keep(r.Prompts, func(x *mcp.Prompt) bool { info, ok := s.prompt(x.Name); return show(info, ok) })
		s.setCaching(&out.Cacheable, true)
		return &out
	}
	return res
}

// listCall is the Call the gates judge a list's entries with, and whether
// the caller's identity was established.
func (s *Server) listCall(ctx context.Context, op Operation, req mcp.Request) (*Call, bool) {
	c := &Call{Operation: op, Server: s.impl}
	if pv, ok := req.(interface{ ProtocolVersion() string }); ok {
		c.ProtocolVersion = pv.ProtocolVersion()
	}
	if ss := req.GetSession(); ss != nil {
		c.SessionID = ss.ID()
	}
	id, err := s.safeIdentityFor(ctx, req)
	if err != nil {
		s.logger.Warn(string(op)+": identity not established", "error", err)
		return c, false
	}
	c.Identity = id
	return c, true
}

// keep returns the items show lets through, never nil (a JSON array, not
// null).
func keep[T any](items []T, show func(T) bool) []T {
	out := make([]T, 0, len(items))
	for _, it := range items {
		if show(it) {
			out = append(out, it)
		}
	}
	return out
}

// visible asks every gate; a gate that errors or panics hides the entry.
func (s *Server) visible(ctx context.Context, c *Call) (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			s.logger.Error(string(c.Operation)+": gate panicked", c.Tool.Kind.Noun(), c.Tool.Name, "panic", fmt.Sprint(v))
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
