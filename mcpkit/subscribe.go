package mcpkit

import (
	"context"
	"fmt"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Resource subscriptions are the SDK's (mcp.ServerOptions.SubscribeHandler
// and UnsubscribeHandler, given with WithServerOptions): mcpkit decides
// each one as a resources/read of its URI before the SDK sees it, and asks
// the gates again before every notifications/resources/updated reaches a
// subscriber.

// resourceFor returns the registered resource or template a read of uri
// reaches.
func (s *Server) resourceFor(uri string) (*ToolInfo, bool) {
	if r, ok := s.resourceByURI(uri); ok {
		return r, true
	}
	return s.templateFor(uri)
}

// unknownURIMessage is the refusal of a subscription to a URI no
// registered resource or template matches.
func unknownURIMessage(uri string) string {
	return fmt.Sprintf("unknown resource %q: no resource or resource template of this server has that URI", uri)
}

// subscribe decides a resources/subscribe or resources/unsubscribe
// (protocol versions before 2026-07-28) as a read of its URI, then lets
// the SDK (and the team's handler) take it, and keeps who subscribed for
// the update filter. A URI nobody registered with mcpkit is refused.
func (s *Server) subscribe(ctx context.Context, method string, req mcp.Request, uri string, next mcp.MethodHandler) (mcp.Result, error) {
	op := OpSubscribeResource
	if method == string(OpUnsubscribeResource) {
		op = OpUnsubscribeResource
	}
	info, ok := s.resourceFor(uri)
	if !ok {
		return nil, s.refuseUnknown(ctx, req, op, KindResource, uri, unknownURIMessage(uri))
	}
	c := s.newDecisionCall(info, op, uri, req)
	c.setURIArguments(uri)
	ss := req.GetSession()
	res, err := s.decide(ctx, c, req, func(ctx context.Context) (mcp.Result, error) {
		if op == OpUnsubscribeResource {
			res, err := next(ctx, method, req)
			if err == nil {
				s.subs.remove(ss, uri, true)
			}
			return res, err
		}
		added, err := s.subs.add(ss, uri, c, true, s.maxSubs)
		if err != nil {
			return nil, err
		}
		res, err := next(ctx, method, req)
		if err != nil && added {
			s.subs.remove(ss, uri, true)
		}
		return res, err
	})
	if res == nil {
		return nil, err
	}
	return res, err
}

// listen decides every resource URI of a 2026-07-28 subscriptions/listen
// as a read of it before the SDK subscribes the stream to them (the SDK
// calls the subscribe handler itself, past every receiving middleware).
// One URI refused refuses the listen: nothing is acknowledged, nothing
// subscribed. The subscribers are kept for the update filter while the
// listen lasts.
func (s *Server) listen(ctx context.Context, method string, req mcp.Request, p *mcp.SubscriptionsListenParams, next mcp.MethodHandler) (mcp.Result, error) {
	if p.Notifications == nil || len(p.Notifications.ResourceSubscriptions) == 0 {
		return next(ctx, method, req)
	}
	ss := req.GetSession()
	var taken []string
	release := func() {
		for _, uri := range taken {
			s.subs.remove(ss, uri, false)
		}
	}
	for _, uri := range p.Notifications.ResourceSubscriptions {
		info, ok := s.resourceFor(uri)
		if !ok {
			release()
			return nil, s.refuseUnknown(ctx, req, OpListen, KindResource, uri, unknownURIMessage(uri))
		}
		c := s.newDecisionCall(info, OpListen, uri, req)
		c.setURIArguments(uri)
		_, err := s.decide(ctx, c, req, func(context.Context) (mcp.Result, error) {
			if _, err := s.subs.add(ss, uri, c, false, s.maxSubs); err != nil {
				return nil, err
			}
			taken = append(taken, uri)
			return nil, nil
		})
		if err != nil {
			release()
			return nil, err
		}
	}
	defer release()
	return next(ctx, method, req)
}

// mayHearUpdate reports whether a notifications/resources/updated of uri
// may reach session ss: ss subscribed to it through mcpkit, and the gates
// still let its caller read it (a flag may have turned off since).
func (s *Server) mayHearUpdate(ctx context.Context, ss mcp.Session, uri string) bool {
	sub, ok := s.subs.get(ss, uri)
	if !ok {
		return false
	}
	info, ok := s.resourceFor(uri)
	if !ok {
		return false
	}
	c := &Call{Operation: OpResourceUpdated, Target: uri, Tool: info, Server: s.impl, Identity: sub.identity,
		SessionID: sub.sessionID, ProtocolVersion: sub.protocol}
	return s.visible(ctx, c)
}

// send is the server's sending middleware: it drops a resource update
// notice bound for a session whose caller may not read the URI.
func (s *Server) send(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if method != string(OpResourceUpdated) {
			return next(ctx, method, req)
		}
		p, ok := req.GetParams().(*mcp.ResourceUpdatedNotificationParams)
		if !ok || p == nil || !s.mayHearUpdate(ctx, req.GetSession(), p.URI) {
			if ok && p != nil {
				s.logger.Debug("mcpkit: resource update withheld from a subscriber the gates no longer let read it", "uri", p.URI)
			}
			return nil, nil
		}
		return next(ctx, method, req)
	}
}

// subscriber is who subscribed a session to a URI, as decided.
type subscriber struct {
	identity  Identity
	sessionID string
	protocol  string
	listens   int // open subscriptions/listen streams naming the URI
}

// subscriptions is the callers mcpkit let subscribe, by session and URI.
// A legacy subscription lasts until its unsubscribe or the session's end;
// a listen's until the listen returns.
type subscriptions struct {
	mu sync.Mutex
	m  map[mcp.Session]map[string]*subscriber
	// watched are the legacy sessions a goroutine waits on, to forget
	// their subscriptions when they end: one goroutine per session, however
	// often it subscribes and unsubscribes.
	watched map[mcp.Session]bool
}

// add records that c's caller subscribed ss to uri, unless ss already
// holds limit other URIs (an *Error then); added says whether uri is new
// for ss.
func (t *subscriptions) add(ss mcp.Session, uri string, c *Call, legacy bool, limit int) (added bool, err error) {
	if ss == nil {
		return false, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m, t.watched = map[mcp.Session]map[string]*subscriber{}, map[mcp.Session]bool{}
	}
	byURI, known := t.m[ss]
	if _, dup := byURI[uri]; !dup && len(byURI) >= limit {
		return false, &Error{Code: CodeUnavailable,
			Message: fmt.Sprintf("too many resource subscriptions on this session (the limit is %d); unsubscribe from one first", limit)}
	}
	if !known {
		byURI = map[string]*subscriber{}
		t.m[ss] = byURI
	}
	if w, ok := ss.(interface{ Wait() error }); ok && legacy && !t.watched[ss] {
		// A legacy session may end without unsubscribing.
		t.watched[ss] = true
		go func() {
			_ = w.Wait()
			t.drop(ss)
		}()
	}
	sub := byURI[uri]
	if sub == nil {
		sub = &subscriber{}
		byURI[uri] = sub
		added = true
	}
	sub.identity, sub.sessionID, sub.protocol = c.Identity, c.SessionID, c.ProtocolVersion
	if !legacy {
		sub.listens++
	}
	return added, nil
}

// remove ends ss's subscription to uri: all of it on an unsubscribe
// (legacy, as the SDK does), one listen's share otherwise.
func (t *subscriptions) remove(ss mcp.Session, uri string, legacy bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	byURI := t.m[ss]
	sub := byURI[uri]
	if sub == nil {
		return
	}
	if !legacy {
		if sub.listens--; sub.listens > 0 {
			return
		}
	}
	delete(byURI, uri)
	if len(byURI) == 0 {
		delete(t.m, ss)
	}
}

func (t *subscriptions) drop(ss mcp.Session) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, ss)
	delete(t.watched, ss)
}

func (t *subscriptions) get(ss mcp.Session, uri string) (subscriber, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	sub := t.m[ss][uri]
	if sub == nil {
		return subscriber{}, false
	}
	return *sub, true
}
