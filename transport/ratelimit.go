package transport

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"

	"github.com/mcpkit-go/mcpkit/internal/wire"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/ratelimit"
)

// WithRateLimit lets the handler answer 429 Too Many Requests with
// Retry-After, before the server runs, for a request whose one tools/call
// the gate refuses. g must be the gate the server was built with
// (mcpkit.WithGates): the handler decides such a call instead of the gate,
// never in addition to it, so each call is counted once. It decides
// before the scope check (a call refused for scopes has been counted, as
// in the server) and only for an authenticated caller and a request
// carrying a single tools/call of a registered tool; anything else is
// left to the gate, whose refusal is an isError result. A limiter failure
// is left to the gate too, which refuses the call as unavailable.
func WithRateLimit(g *ratelimit.Gate) Option {
	return func(c *httpConfig) {
		if g == nil {
			c.errs = append(c.errs, errors.New("transport: WithRateLimit needs a gate, got nil"))
			return
		}
		c.rate = g
	}
}

// checkRate decides the request's tools/call against the rate gate. It
// returns the mark for an admitted call (nil when the handler did not
// decide) and false when it has answered 429.
func (h *Handler) checkRate(w http.ResponseWriter, r *http.Request, id mcpkit.Identity, calls []rpcCall) (*wire.RateAdmitted, bool) {
	if h.cfg.rate == nil || len(calls) != 1 {
		return nil, true
	}
	call := calls[0]
	info, known := h.srv.Tool(call.Name())
	if !known {
		return nil, true
	}
	err := h.cfg.rate.Admit(r.Context(), id, info)
	if err == nil {
		return &wire.RateAdmitted{By: h.cfg.rate, Tool: info.Name}, true
	}
	var le *ratelimit.LimitedError
	if !errors.As(err, &le) {
		// The limiter could not decide: the gate asks again and fails
		// closed, with an audit record.
		return nil, true
	}
	var rid *jsonrpc.ID
	if call.ID.IsValid() {
		rid = &call.ID
	}
	w.Header().Set("Retry-After", strconv.Itoa(le.RetrySeconds()))
	h.rejectAs(w, r, Rejection{
		Status:     http.StatusTooManyRequests,
		Reason:     err.Error() + ": " + le.Error(),
		Tool:       info.Name,
		Identity:   &id,
		RetryAfter: max(le.RetryAfter, time.Nanosecond),
		afterBody:  true,
	}, "", rid, err.Error())
	return nil, false
}
