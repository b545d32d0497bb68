package transport

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// Session bounds. Each stateful session costs the server memory until it
// ends or idles out, so one token must not be able to open them without
// limit.
const (
	defaultMaxSessions            = 2048
	defaultMaxSessionsPerIdentity = 128
	// sessionRetryAfter is the Retry-After (seconds) of a refused session:
	// sessions free up as others end or idle out.
	sessionRetryAfter = "60"
)

// meterScope names the transport's instruments.
const meterScope = "github.com/mcpkit-go/mcpkit/transport"

// sessionLimiter counts open sessions (stateful streamable HTTP and legacy
// SSE streams) per identity and in total. A session holds its slot from
// the request that opens it until it ends; a request that would open one
// past a bound is refused before the SDK creates it.
type sessionLimiter struct {
	perIdentity, total int

	mu    sync.Mutex
	byKey map[string]int
	n     int
	// ending holds, per open streamable session id, a channel closed once
	// the session's slot is given back: the DELETE that ends the session
	// answers after it (awaitEnd), so the client may open the next one at
	// once.
	ending map[string]chan struct{}

	open metric.Int64UpDownCounter
}

func newSessionLimiter(total, perIdentity int, mp metric.MeterProvider) *sessionLimiter {
	l := &sessionLimiter{perIdentity: perIdentity, total: total, byKey: map[string]int{}, ending: map[string]chan struct{}{}}
	// Creation fails only on an invalid name; the instrument is usable
	// (no-op) anyway.
	l.open, _ = mp.Meter(meterScope).Int64UpDownCounter("mcpkit.transport.sessions",
		metric.WithUnit("{session}"),
		metric.WithDescription("Open MCP sessions: stateful streamable HTTP sessions and legacy SSE streams."))
	return l
}

// acquire takes a slot for key ("" for an unauthenticated server, which has
// no per-identity bound). It returns 0 on success, else the status to
// refuse with: 429 when the identity is at its bound, 503 when the server
// is.
func (l *sessionLimiter) acquire(key string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case key != "" && l.byKey[key] >= l.perIdentity:
		return http.StatusTooManyRequests
	case l.n >= l.total:
		return http.StatusServiceUnavailable
	}
	l.n++
	if key != "" {
		l.byKey[key]++
	}
	return 0
}

func (l *sessionLimiter) release(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n--
	if key != "" {
		if l.byKey[key]--; l.byKey[key] <= 0 {
			delete(l.byKey, key)
		}
	}
}

// opened and closed move the metric.
func (l *sessionLimiter) opened(kind string) {
	l.open.Add(context.Background(), 1, metric.WithAttributes(attribute.String("mcpkit.transport", kind)))
}

func (l *sessionLimiter) closed(kind string) {
	l.open.Add(context.Background(), -1, metric.WithAttributes(attribute.String("mcpkit.transport", kind)))
}

// settle ends a session-opening request: if the SDK opened a session (its
// id is in the response header and it is live), the slot is held until the
// session ends; otherwise it is given back now. When the session ends the
// slot is given back before the metric moves, so a reader who sees the
// session gone finds its slot free.
func (l *sessionLimiter) settle(srv *mcp.Server, sid, key string) {
	if sid != "" {
		for ss := range srv.Sessions() {
			if ss.ID() != sid {
				continue
			}
			l.opened(kindStreamable)
			done := make(chan struct{})
			l.mu.Lock()
			l.ending[sid] = done
			l.mu.Unlock()
			go func() {
				_ = ss.Wait()
				l.release(key)
				l.mu.Lock()
				delete(l.ending, sid)
				l.mu.Unlock()
				close(done)
				l.closed(kindStreamable)
			}()
			return
		}
	}
	l.release(key)
}

// sessionEndWait bounds how long a DELETE that closed a session waits for
// its slot to be given back; the SDK's Close ends the session at once, so
// this is only a guard against a session that never reports its end.
const sessionEndWait = 2 * time.Second

// awaitEnd waits, at most sessionEndWait, until the slot of the session
// sid is given back; it returns at once for a session it does not hold.
func (l *sessionLimiter) awaitEnd(sid string) {
	l.mu.Lock()
	done, ok := l.ending[sid]
	l.mu.Unlock()
	if !ok {
		return
	}
	t := time.NewTimer(sessionEndWait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
}

const (
	kindStreamable = "streamable_http"
	kindSSE        = "sse"
)

// sessionKey is whose bound a session counts against.
func sessionKey(caller *mcpkit.Identity) string {
	if caller == nil {
		return ""
	}
	return identityKey(*caller)
}

// sessionsFull refuses a request that would open a session past a bound.
func (h *Handler) sessionsFull(w http.ResponseWriter, r *http.Request, caller *mcpkit.Identity, status int) {
	w.Header().Set("Retry-After", sessionRetryAfter)
	if status == http.StatusTooManyRequests {
		h.rejectAs(w, r, Rejection{Status: status, Reason: "session limit per identity reached", Identity: caller}, "", nil,
			"too many open sessions for this caller; close some (DELETE the session) or wait for idle ones to expire")
		return
	}
	h.rejectAs(w, r, Rejection{Status: status, Reason: "server session limit reached", Identity: caller}, "", nil,
		"the server has too many open sessions; try again later")
}

// endSession serves a DELETE on a stateful handler. When it ended a
// session (204), it answers only once the session's slot is given back,
// so the client's next session is not refused for the one it just closed.
func (h *Handler) endSession(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w}
	h.sdk.ServeHTTP(sw, r)
	if sw.status == http.StatusNoContent {
		h.sessions.awaitEnd(r.Header.Get("Mcp-Session-Id"))
	}
}

// statusWriter remembers the status written through it.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
