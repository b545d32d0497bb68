package approval

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// ReviewerResolver establishes who is using the console, with the same kind of
// credentials as the MCP transport (a bearer token, a session cookie from
// the company SSO). An error or an identity without a subject is answered
// with 401.
type ReviewerResolver func(r *http.Request) (mcpkit.Identity, error)

// Notifier tells reviewers that a request is waiting (a chat webhook, a
// pager). A notifier that fails makes the call fail closed: nobody would
// know to approve it.
type Notifier interface {
	Notify(ctx context.Context, r Request) error
}

// ConsoleConfig configures a Console.
type ConsoleConfig struct {
	// Authenticate is required: the console never serves anonymous users.
	Authenticate ReviewerResolver
	// Reviewers is who may use the console: the scopes (all of them)
	// and groups (any of them) a reviewer must hold. Required, with at
	// least one scope or group: being signed in is not enough. Set
	// ToolScopes to also require the tool's own scopes on its requests.
	Reviewers ReviewerRule
	// ToolReviewers adds a rule per tool name. A reviewer sees and
	// decides a tool's requests only when meeting both Reviewers and the
	// tool's rule, so a per-tool rule can only narrow who decides.
	ToolReviewers map[string]ReviewerRule
	// InsecureAnyReviewer lets any signed-in user see and decide every
	// request (ToolReviewers still apply) when Reviewers is empty. Only
	// for a single-operator setup where the authenticator already admits
	// approvers alone.
	InsecureAnyReviewer bool
	// OnReview receives refusals and decisions for the audit record (see
	// AuditReviews). A decision is applied only once OnReview accepted
	// it. If nil, console events are only logged when they fail.
	OnReview ReviewHook
	// Store holds the pending requests; in memory if nil. A
	// DecisionStore (MemoryStore, pgstate.Store) also carries decisions,
	// so that a reviewer can decide through the console of any process
	// sharing it; with a plain Store a decision reaches only the calls
	// waiting in this process.
	Store Store
	// Notifiers are told about each new pending request.
	Notifiers []Notifier
	// URL is where reviewers open the console. It is shown to callers
	// and included in notifications.
	URL string
	// AllowSelfApproval lets the caller approve their own call. Off by
	// default (four eyes): leave it off unless the console is the only
	// way a single operator can confirm.
	AllowSelfApproval bool
	// Logger receives the console's own problems; discarded if nil.
	Logger *slog.Logger
	// Keys seal requests and decisions (the fleet's approval keys, the
	// same on every process sharing Store): a console shows and decides
	// only requests whose seal verifies, and a waiting call runs only on
	// a sealed decision for the request it holds, by a reviewer who
	// passes the rules. Required in practice with a store shared by
	// processes (a database writer could otherwise approve calls); nil
	// leaves requests and decisions unsealed.
	Keys *Keyring
}

// Console is the out-of-band approver: calls wait while a reviewer approves
// or denies them through its http.Handler (a JSON API and a small HTML
// page). It is both the Approver to give to New and the handler to mount.
type Console struct {
	opts   ConsoleConfig
	rules  reviewers
	store  DecisionStore
	mux    *http.ServeMux
	logger *slog.Logger
}

// storeTimeout bounds the store operations that must not depend on the
// caller's or the reviewer's connection.
const storeTimeout = 10 * time.Second

// maxBody bounds a console request body.
const maxBody = 16 << 10

//go:embed console.html
var consoleHTML []byte

//go:embed console.js
var consoleJS []byte

// NewConsole returns a console. With a plain Store, requests left in it by
// a previous process (a restart) are removed here: their calls are gone,
// and they are never approved. A DecisionStore is left as it is: it may
// hold other processes' requests, and it refuses decisions for calls that
// are gone (ErrNotWaiting).
func NewConsole(ctx context.Context, opts ConsoleConfig) (*Console, error) {
	if opts.Authenticate == nil {
		return nil, errors.New("approval: a Console needs ConsoleConfig.Authenticate; the console never serves anonymous users")
	}
	rules, err := newReviewers(opts)
	if err != nil {
		return nil, err
	}
	c := &Console{opts: opts, rules: rules, logger: opts.Logger}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	switch s := opts.Store.(type) {
	case nil:
		c.store = NewMemoryStore()
	case DecisionStore:
		c.store = s
	default:
		left, err := s.List(ctx)
		if err != nil {
			return nil, fmt.Errorf("approval: read pending requests: %w", err)
		}
		for _, r := range left {
			c.logger.Warn("approval: denying a request left pending by a previous run", "id", r.ID, "tool", r.Tool, "principal", r.Principal.Subject)
			if err := s.Remove(ctx, r.ID); err != nil {
				return nil, fmt.Errorf("approval: remove stale request %s: %w", r.ID, err)
			}
		}
		c.store = localDecisions{Store: s, local: NewMemoryStore()}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", c.page)
	mux.HandleFunc("GET /console.js", c.script)
	mux.HandleFunc("GET /api/pending", c.list)
	mux.HandleFunc("POST /api/pending/{id}/approve", c.decideHandler(VerdictApproved))
	mux.HandleFunc("POST /api/pending/{id}/deny", c.decideHandler(VerdictDenied))
	c.mux = mux
	return c, nil
}

// Hint is the sentence shown to a caller who must get approval here.
func (c *Console) Hint() string {
	if c.opts.URL == "" {
		return "Ask an approver to approve it in the approval console, then call the tool again."
	}
	return fmt.Sprintf("Ask an approver to approve it at %s, then call the tool again.", c.opts.URL)
}

// Approve implements Approver: it adds r to the store, notifies reviewers
// and waits for a decision until r's deadline or until ctx ends.
func (c *Console) Approve(ctx context.Context, r *Request) (Decision, error) {
	pending := *r
	pending.Call = nil
	pending.ConsoleURL = c.opts.URL
	if c.opts.Keys != nil {
		sealed, err := c.opts.Keys.SealRequest(pending)
		if err != nil {
			c.logger.Error("approval: seal pending request", "id", r.ID, "tool", r.Tool, "error", err)
			return Decision{Verdict: VerdictUnavailable, Approver: "system", Reason: "the approval console could not seal the request", At: time.Now()}, nil
		}
		pending = sealed
	}
	if err := c.store.Add(ctx, pending); err != nil {
		if ctx.Err() != nil {
			return Decision{}, ctx.Err()
		}
		c.logger.Error("approval: record pending request", "id", r.ID, "tool", r.Tool, "error", err)
		return Decision{Verdict: VerdictUnavailable, Approver: "system", Reason: "the approval console could not record the request", At: time.Now()}, nil
	}
	// Whatever ends the wait, the request goes (Await withdraws it too).
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
		defer cancel()
		if err := c.store.Remove(rctx, r.ID); err != nil {
			c.logger.Warn("approval: remove a finished request", "id", r.ID, "error", err)
		}
	}()
	for _, n := range c.opts.Notifiers {
		if err := n.Notify(ctx, pending); err != nil {
			if ctx.Err() != nil {
				return Decision{}, ctx.Err()
			}
			c.logger.Error("approval: notification failed", "id", r.ID, "tool", r.Tool, "error", err)
			return Decision{Verdict: VerdictUnavailable, Approver: "system", Reason: "reviewers could not be notified", At: time.Now()}, nil
		}
	}
	// A decision delivered just as the wait ended still counts if it was
	// made in time (Await returns it); the gate checks its time against
	// the deadline.
	d, err := c.store.Await(ctx, r.ID)
	if err != nil {
		if ctx.Err() != nil {
			return Decision{}, ctx.Err()
		}
		c.logger.Error("approval: wait for a decision", "id", r.ID, "tool", r.Tool, "error", err)
		return Decision{Verdict: VerdictUnavailable, Approver: "system", Reason: "the approval console lost the request", At: time.Now()}, nil
	}
	return c.verified(pending, d), nil
}

// ServeHTTP serves the console: GET / (the page), GET /api/pending,
// POST /api/pending/{id}/approve and POST /api/pending/{id}/deny.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	c.mux.ServeHTTP(w, r)
}

// admit authenticates the reviewer and checks the console's approver rule,
// answering 401 or 403 (and reporting it) otherwise.
func (c *Console) admit(w http.ResponseWriter, r *http.Request, action string) (mcpkit.Identity, bool) {
	id, err := c.opts.Authenticate(r)
	if err != nil || id.Subject == "" {
		why := "no valid credentials"
		if err != nil {
			why += ": " + err.Error()
		}
		_ = c.report(r.Context(), Review{Outcome: ReviewUnauthenticated, Action: action, Status: http.StatusUnauthorized,
			RequestID: r.PathValue("id"), Error: why, Network: networkOf(r)})
		w.Header().Set("WWW-Authenticate", `Bearer realm="mcpkit-approval"`)
		writeError(w, http.StatusUnauthorized, "authentication required: sign in as an approver to use the approval console")
		return mcpkit.Identity{}, false
	}
	if miss := c.rules.console(id); len(miss) > 0 {
		msg := "you are not an approver on this console: it requires " + strings.Join(miss, " and ")
		c.refuse(w, r, Review{Reviewer: id, Action: action, RequestID: r.PathValue("id"), Error: msg})
		return mcpkit.Identity{}, false
	}
	return id, true
}

// refuse answers 403 with rv.Error and reports it.
func (c *Console) refuse(w http.ResponseWriter, r *http.Request, rv Review) {
	rv.Outcome, rv.Status = ReviewRefused, http.StatusForbidden
	_ = c.report(r.Context(), rv)
	writeError(w, http.StatusForbidden, rv.Error)
}

// report hands rv to OnReview; a failure is logged and returned.
func (c *Console) report(ctx context.Context, rv Review) error {
	if c.opts.OnReview == nil {
		return nil
	}
	if rv.Time.IsZero() {
		rv.Time = time.Now()
	}
	// The record must not depend on the reviewer's connection staying up.
	err := c.opts.OnReview(context.WithoutCancel(ctx), rv)
	if err != nil {
		c.logger.Error("approval: console event not recorded", "outcome", rv.Outcome, "reviewer", rv.Reviewer.Subject, "action", rv.Action, "id", rv.RequestID, "error", err)
	}
	return err
}

func (c *Console) page(w http.ResponseWriter, r *http.Request) {
	if _, ok := c.admit(w, r, "page"); !ok {
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(consoleHTML)
}

func (c *Console) script(w http.ResponseWriter, r *http.Request) {
	if _, ok := c.admit(w, r, "script"); !ok {
		return
	}
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	_, _ = w.Write(consoleJS)
}

// listResponse is the body of GET /api/pending.
type listResponse struct {
	// You is the reviewer, so the page can tell which calls are their own.
	You     string    `json:"you"`
	Pending []Request `json:"pending"`
}

func (c *Console) list(w http.ResponseWriter, r *http.Request) {
	id, ok := c.admit(w, r, "list")
	if !ok {
		return
	}
	reqs, err := c.store.List(r.Context())
	if err != nil {
		c.logger.Error("approval: list pending", "error", err)
		writeError(w, http.StatusServiceUnavailable, "the pending requests could not be read; try again")
		return
	}
	now := time.Now()
	live := make([]Request, 0, len(reqs))
	for _, p := range reqs {
		if _, err := c.unsealed(p); err != nil {
			c.tampered(r, id, "list", p, err)
			continue
		}
		// A reviewer sees only the requests they may decide: not their
		// own (four eyes), and only those the approver rules let them.
		own := !c.opts.AllowSelfApproval && p.Principal.Subject != "" && sameSubject(p.Principal.Subject, id.Subject)
		if now.Before(p.Deadline) && !own && len(c.rules.request(id, &p)) == 0 {
			live = append(live, p)
		}
	}
	writeJSON(w, http.StatusOK, listResponse{You: id.Subject, Pending: live})
}

// decideBody is the body of approve and deny.
type decideBody struct {
	Reason string `json:"reason"`
}

// decisionResponse answers approve and deny.
type decisionResponse struct {
	ID       string  `json:"id"`
	Decision Verdict `json:"decision"`
	Approver string  `json:"approver"`
	Reason   string  `json:"reason,omitempty"`
	// Message says that the waiting call received the decision.
	Message string `json:"message"`
}

func (c *Console) decideHandler(v Verdict) http.HandlerFunc {
	action, outcome := "approve", ReviewApproved
	if v == VerdictDenied {
		action, outcome = "deny", ReviewDenied
	}
	return func(w http.ResponseWriter, r *http.Request) {
		who, ok := c.admit(w, r, action)
		if !ok {
			return
		}
		// Only JSON bodies: a cross-site form cannot send one without a
		// CORS preflight, which this handler never grants.
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, `send a JSON body with Content-Type: application/json, such as {"reason":"..."}`)
			return
		}
		var body decideBody
		dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&body); err != nil && !errors.Is(err, io.EOF) {
			writeError(w, http.StatusBadRequest, `malformed body: want {"reason":"..."}`)
			return
		}
		body.Reason = strings.TrimSpace(body.Reason)
		if utf8.RuneCountInString(body.Reason) > maxReasonLen {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("reason is longer than %d characters", maxReasonLen))
			return
		}
		if v == VerdictDenied && body.Reason == "" {
			writeError(w, http.StatusBadRequest, "a denial needs a reason: the caller reads it")
			return
		}
		id := r.PathValue("id")
		rv := Review{Reviewer: who, Action: action, RequestID: id, Reason: body.Reason}
		notWaiting := func(status int, msg string) {
			rv.Outcome, rv.Status, rv.Error = ReviewNotWaiting, status, msg
			_ = c.report(r.Context(), rv)
			writeError(w, status, msg)
		}
		// The store runs the checks against the request as it holds it,
		// while no other decision for it can be taken. The decision is on
		// the record before the call sees it; one that cannot be recorded
		// refuses the call instead.
		var reported, unrecorded bool
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), storeTimeout)
		defer cancel()
		var tampered error
		err := c.store.Decide(ctx, id, func(p Request) (Decision, error) {
			rv.Request = &p
			digest, serr := c.unsealed(p)
			if serr != nil {
				tampered = serr
				return Decision{}, errTampered
			}
			if miss := c.rules.request(who, &p); len(miss) > 0 {
				rv.Error = "you may not decide requests to " + p.Tool + ": the approver rule requires " + strings.Join(miss, " and ")
				return Decision{}, errRefused
			}
			if v == VerdictApproved && !c.opts.AllowSelfApproval && p.Principal.Subject != "" && sameSubject(p.Principal.Subject, who.Subject) {
				rv.Error = "you cannot approve your own call: another approver must (four eyes)"
				return Decision{}, errRefused
			}
			now := time.Now()
			if !now.Before(p.Deadline) {
				return Decision{}, errLate
			}
			rv.Outcome, rv.Status, rv.Time = outcome, http.StatusOK, now
			reported = true
			d := Decision{Verdict: v, Approver: who.Subject, Reason: body.Reason, At: now}
			if err := c.report(ctx, rv); err != nil {
				unrecorded = true
				d = Decision{Verdict: VerdictUnavailable, Approver: "system", Reason: "the reviewer's decision could not be recorded in the audit log", At: now}
			}
			return c.seal(p.ID, digest, who, d)
		})
		switch {
		case errors.Is(err, errTampered):
			c.tampered(r, who, action, *rv.Request, tampered)
			writeError(w, http.StatusConflict, "this request failed its integrity check (it was changed in the approval store): it cannot be decided, and its call will not run on it")
		case errors.Is(err, errRefused):
			c.refuse(w, r, rv)
		case errors.Is(err, errLate):
			notWaiting(http.StatusConflict, "the request's deadline has passed; it was denied")
		case errors.Is(err, ErrNotFound):
			notWaiting(http.StatusNotFound, "no pending request with that id: it was decided, timed out, or its call ended")
		case errors.Is(err, ErrDecided):
			notWaiting(http.StatusConflict, "this request was already decided by another reviewer; your decision was not applied")
		case errors.Is(err, ErrNotWaiting):
			// Listed but no call waits for it: its call ended, its server
			// stopped, or it is served by a server this console cannot
			// reach. Never approve it.
			notWaiting(http.StatusConflict, "this request's call is no longer waiting (it ended, its server stopped, or it is served by another server); it was not approved")
		case err != nil && reported:
			c.logger.Error("approval: deliver a recorded decision", "id", id, "error", err)
			rv.Time = time.Time{}
			notWaiting(http.StatusServiceUnavailable, "your decision was recorded but could not be delivered to the waiting call (the approval store failed), so it was not applied; try again")
		case err != nil:
			c.logger.Error("approval: decide", "id", id, "error", err)
			writeError(w, http.StatusServiceUnavailable, "the pending request could not be read; try again")
		case unrecorded:
			writeError(w, http.StatusServiceUnavailable, "your decision could not be recorded in the audit log, so it was not applied; the call was refused")
		default:
			c.confirm(ctx, w, r, rv, v, body.Reason)
		}
	}
}

// confirm answers a decision the store took: 200 once the waiting call
// took it. With a DeliveryConfirmer, a decision the call did not take in
// time is withdrawn (409) and a second review record, outcome not_waiting,
// says that it was not delivered.
func (c *Console) confirm(ctx context.Context, w http.ResponseWriter, r *http.Request, rv Review, v Verdict, reason string) {
	if dc, ok := c.store.(DeliveryConfirmer); ok {
		err := dc.Confirm(ctx, rv.RequestID)
		if err != nil {
			msg := "the waiting call did not take the decision: its server may have stopped; nothing ran"
			rv.Status = http.StatusConflict
			if !errors.Is(err, ErrNotDelivered) {
				c.logger.Error("approval: confirm a decision", "id", rv.RequestID, "error", err)
				msg = "your decision was recorded, but whether the waiting call took it could not be confirmed (the approval store failed); check the call's audit record"
				rv.Status = http.StatusServiceUnavailable
			}
			rv.Outcome, rv.Error, rv.Time = ReviewNotWaiting, msg, time.Time{}
			_ = c.report(r.Context(), rv)
			writeError(w, rv.Status, msg)
			return
		}
	}
	writeJSON(w, http.StatusOK, decisionResponse{ID: rv.RequestID, Decision: v, Approver: rv.Reviewer.Subject, Reason: reason,
		Message: string(v) + "; the waiting call received it"})
}

// Why a console's decide function declined to decide.
var (
	errRefused = errors.New("approval: the reviewer may not decide this request")
	errLate    = errors.New("approval: the request's deadline has passed")
	// errTampered: the request's seal did not verify.
	errTampered = errors.New("approval: the request failed its seal check")
)

// networkOf is what the connection says of r. Forwarding headers are not
// read: the client writes them.
func networkOf(r *http.Request) mcpkit.Network {
	n := mcpkit.Network{Transport: "tcp", ProtocolName: "http", ProtocolVersion: fmt.Sprintf("%d.%d", r.ProtoMajor, r.ProtoMinor)}
	if r.ProtoMajor >= 2 {
		n.ProtocolVersion = strconv.Itoa(r.ProtoMajor)
	}
	if host, port, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		n.ClientAddress = host
		n.ClientPort, _ = strconv.Atoi(port)
	}
	return n
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
