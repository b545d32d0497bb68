package transport

import (
	"context"
	"net/http"
	"sync"

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

	open metric.Int64UpDownCounter
}

func newSessionLimiter(total, perIdentity int, mp metric.MeterProvider) *sessionLimiter {
	l := &sessionLimiter{perIdentity: perIdentity, total: total, byKey: map[string]int{}}
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
// session ends; otherwise it is given back now.
func (l *sessionLimiter) settle(srv *mcp.Server, sid, key string) {
	if sid != "" {
		for ss := range srv.Sessions() {
			if ss.ID() != sid {
				continue
			}
			l.opened(kindStreamable)
			go func() {
				_ = ss.Wait()
				l.closed(kindStreamable)
				l.release(key)
			}()
			return
		}
	}
	l.release(key)
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
