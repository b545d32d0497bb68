package transport

import (
	"bytes"
	"net/http"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// WithLegacySSE also serves the deprecated HTTP+SSE transport (protocol
// 2024-11-05) at path, for clients that have no streamable HTTP yet. It is
// off unless asked for. The same authentication, Origin, body-limit and
// scope checks apply; the stream's caller is the identity that opened it
// (GET), and a message posted to the session by anyone else is refused.
func WithLegacySSE(path string) Option { return func(c *httpConfig) { c.ssePath = path } }

// legacySSE serves the HTTP+SSE transport and remembers which identity
// opened each session.
type legacySSE struct {
	sdk    http.Handler
	mu     sync.Mutex
	owners map[string]string // session id -> identityKey
}

func newLegacySSE(srv *mcpkit.Server) *legacySSE {
	return &legacySSE{
		// The body limit is the Handler's, on the bytes the client sent.
		sdk:    mcp.NewSSEHandler(func(*http.Request) *mcp.Server { return srv.MCPServer() }, &mcp.SSEOptions{MaxRequestBodyBytes: -1}),
		owners: map[string]string{},
	}
}

func identityKey(id mcpkit.Identity) string { return id.AuthMethod + ":" + id.Subject }

func (h *Handler) serveSSE(w http.ResponseWriter, r *http.Request) {
	r = withNetwork(r)
	caller, b, ok := h.admit(w, r)
	if !ok {
		return
	}
	if r.Method == http.MethodPost {
		if caller != nil {
			sid := r.URL.Query().Get("sessionid")
			h.sse.mu.Lock()
			owner, known := h.sse.owners[sid]
			h.sse.mu.Unlock()
			if known && owner != identityKey(*caller) {
				h.rejectAs(w, r, Rejection{Status: http.StatusForbidden, Reason: "SSE session " + sid + " belongs to another identity", Identity: caller}, "", nil,
					"this session was opened by another caller; open your own")
				return
			}
			if !h.checkToolScopes(w, r, *caller, b.calls) {
				return
			}
		}
		if !h.checkParamHeaders(w, r, caller, b) {
			return
		}
		h.sse.sdk.ServeHTTP(w, r)
		return
	}
	if r.Method != http.MethodGet {
		h.sse.sdk.ServeHTTP(w, r)
		return
	}
	// GET opens the stream, which is the session: it holds a slot until it
	// ends.
	key := sessionKey(caller)
	if status := h.sessions.acquire(key); status != 0 {
		h.sessionsFull(w, r, caller, status)
		return
	}
	h.sessions.opened(kindSSE)
	defer func() {
		h.sessions.release(key)
		h.sessions.closed(kindSSE)
	}()
	if caller == nil {
		h.sse.sdk.ServeHTTP(w, r)
		return
	}
	// The session's calls run as this identity (the SDK connects the
	// session with the request's context).
	id := *caller
	sw := &sessionSniffer{ResponseWriter: w, onSession: func(sid string) {
		h.sse.mu.Lock()
		h.sse.owners[sid] = identityKey(id)
		h.sse.mu.Unlock()
	}}
	defer func() {
		if sw.sid != "" {
			h.sse.mu.Lock()
			delete(h.sse.owners, sw.sid)
			h.sse.mu.Unlock()
		}
	}()
	h.sse.sdk.ServeHTTP(sw, r.WithContext(mcpkit.ContextWithIdentity(r.Context(), id)))
}

// sessionSniffer finds the session id in the stream's first event (the
// endpoint URI, "...?sessionid=ID") as it is written, before the client can
// read it, so that the session is bound before it can be used.
type sessionSniffer struct {
	http.ResponseWriter
	sid       string
	onSession func(string)
}

func (s *sessionSniffer) Write(p []byte) (int, error) {
	if s.sid == "" {
		if i := bytes.Index(p, []byte("sessionid=")); i >= 0 {
			rest := p[i+len("sessionid="):]
			end := 0
			for end < len(rest) && isIDByte(rest[end]) {
				end++
			}
			if end > 0 {
				s.sid = string(rest[:end])
				s.onSession(s.sid)
			}
		}
	}
	return s.ResponseWriter.Write(p)
}

func isIDByte(b byte) bool {
	return b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '-' || b == '_'
}

// Flush keeps the stream streaming.
func (s *sessionSniffer) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *sessionSniffer) Unwrap() http.ResponseWriter { return s.ResponseWriter }
