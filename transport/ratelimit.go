package transport

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/ratelimit"
)

// WithRateLimit lets the handler answer 429 Too Many Requests with
// Retry-After, before the server runs, for a request whose one tools/call
// (or whose single resources/read or prompts/get, keyed as the gate keys
// them) the gate refuses. g must be the gate the server was built with
// (mcpkit.WithGates): the handler decides such a call instead of the gate,
// never in addition to it, so each call is counted once. It decides
// before the scope check (a call refused for scopes has been counted, as
// in the server) and only for an authenticated caller and a request
// carrying a single tools/call of a registered tool, or being one
// resources/read or prompts/get of a registered entry; anything else is
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

// checkRate decides the request's one call against the rate gate. It
// returns the mark for an admitted call (nil when the handler did not
// decide) and false when it has answered 429.
func (h *Handler) checkRate(w http.ResponseWriter, r *http.Request, id mcpkit.Identity, b body) (*ratelimit.Admission, bool) {
	if h.cfg.rate == nil {
		return nil, true
	}
	info, callID, ok := h.rateTarget(b)
	if !ok {
		return nil, true
	}
	admitted, err := h.cfg.rate.AdmitBefore(r.Context(), id, info)
	if err == nil {
		return admitted, true
	}
	var le *ratelimit.LimitedError
	if !errors.As(err, &le) {
		// The limiter could not decide: the gate asks again and fails
		// closed, with an audit record.
		return nil, true
	}
	var rid *jsonrpc.ID
	if callID.IsValid() {
		rid = &callID
	}
	rej := Rejection{
		Status:     http.StatusTooManyRequests,
		Reason:     err.Error() + ": " + le.Error(),
		Identity:   &id,
		RetryAfter: max(le.RetryAfter, time.Nanosecond),
		afterBody:  true,
	}
	if info.Kind.Noun() == "tool" {
		rej.Tool = info.Name
	} else {
		rej.Method = b.single.Method
		rej.Target, _ = paramsName(b.single.Method, b.single.Params)
	}
	w.Header().Set("Retry-After", strconv.Itoa(le.RetrySeconds()))
	h.rejectAs(w, r, rej, "", rid, err.Error())
	return nil, false
}

// rateTarget is the registered entry the request's one call names: the
// tool of a single tools/call (alone or in a batch), or the resource or
// prompt of a body that is one resources/read or prompts/get.
func (h *Handler) rateTarget(b body) (*mcpkit.ToolInfo, jsonrpc.ID, bool) {
	if len(b.calls) == 1 {
		info, ok := h.srv.Tool(b.calls[0].Name())
		return info, b.calls[0].ID, ok
	}
	if len(b.calls) > 1 || b.single == nil {
		return nil, jsonrpc.ID{}, false
	}
	var info *mcpkit.ToolInfo
	name, ok := paramsName(b.single.Method, b.single.Params)
	switch {
	case !ok:
		return nil, jsonrpc.ID{}, false
	case b.single.Method == "resources/read":
		info, ok = h.srv.Resource(name)
	case b.single.Method == "prompts/get":
		info, ok = h.srv.Prompt(name)
	default:
		ok = false
	}
	return info, b.single.ID, ok
}
