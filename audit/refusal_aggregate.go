package audit

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"
)

// Refusals of callers without an identity (no token, a bad token, a wrong
// Origin, a body too large) cost the sender one HTTP request each and the
// server one audit record each: unbounded, they fill the disk, and a full
// disk makes the audit fail closed for everyone. So they are aggregated:
// per source, reason and status, the first refusal of an interval is
// written in full and the rest are counted into one summary record at the
// interval's end; everything they write is charged to a byte budget
// (a token bucket), and the table of sources is bounded. Refusals of
// authenticated callers (403 insufficient scope) are attributable and keep
// one record each.

// Defaults of the refusal limits.
const (
	DefaultRefusalInterval       = time.Minute
	DefaultRefusalBytesPerSecond = 4 << 10
	DefaultRefusalBurstBytes     = 64 << 10
	DefaultRefusalMaxSources     = 10000
)

// RefusalLimits bounds the audit records of refusals without an identity.
// Build it with NewRefusalLimits; the zero value means the defaults.
type RefusalLimits struct {
	interval   time.Duration
	rate       float64 // bytes per second
	burst      float64 // bytes
	maxSources int
}

// RefusalOption sets one refusal limit.
type RefusalOption func(*RefusalLimits)

// WithRefusalInterval sets the aggregation interval (default 1m, at least
// 100ms, at most 24h): per source, reason and status, the first refusal of
// an interval is written in full and the others are counted into one
// summary record at its end.
func WithRefusalInterval(d time.Duration) RefusalOption {
	return func(l *RefusalLimits) { l.interval = d }
}

// WithRefusalBytesPerSecond sets the long-run byte budget of refusal records
// without an identity, full and summary alike (default 4 KiB/s, at least
// 1). What the budget cannot pay for is counted into a later summary.
func WithRefusalBytesPerSecond(n int) RefusalOption {
	return func(l *RefusalLimits) { l.rate = float64(n) }
}

// WithRefusalBurstBytes sets how many bytes of such records may be written at
// once after a quiet period (default 64 KiB, at least 4 KiB so that one
// record always fits).
func WithRefusalBurstBytes(n int) RefusalOption {
	return func(l *RefusalLimits) { l.burst = float64(n) }
}

// WithRefusalMaxSources bounds how many (source, reason, status) keys are
// tracked in an interval (default 10000, at most 1000000). Refusals past
// it are counted together under source "other", so that a caller rotating
// addresses cannot grow memory.
func WithRefusalMaxSources(n int) RefusalOption {
	return func(l *RefusalLimits) { l.maxSources = n }
}

// NewRefusalLimits returns the defaults changed by opts, or an error
// naming the first value out of range.
func NewRefusalLimits(opts ...RefusalOption) (RefusalLimits, error) {
	l := RefusalLimits{
		interval: DefaultRefusalInterval, rate: DefaultRefusalBytesPerSecond,
		burst: DefaultRefusalBurstBytes, maxSources: DefaultRefusalMaxSources,
	}
	for _, o := range opts {
		o(&l)
	}
	switch {
	case l.interval < 100*time.Millisecond || l.interval > 24*time.Hour:
		return RefusalLimits{}, fmt.Errorf("audit: refusal interval %v is outside [100ms, 24h]", l.interval)
	case l.rate < 1 || l.rate > 1<<30:
		return RefusalLimits{}, fmt.Errorf("audit: refusal budget %.0f bytes/s is outside [1, 1 GiB]", l.rate)
	case l.burst < 4<<10 || l.burst > 1<<30:
		return RefusalLimits{}, fmt.Errorf("audit: refusal burst %.0f bytes is outside [4 KiB, 1 GiB]", l.burst)
	case l.maxSources < 1 || l.maxSources > 1_000_000:
		return RefusalLimits{}, fmt.Errorf("audit: refusal sources %d is outside [1, 1000000]", l.maxSources)
	}
	return l, nil
}

// WithRefusalLimits sets the limits on refusal records without an
// identity (default: NewRefusalLimits()).
func WithRefusalLimits(l RefusalLimits) Option {
	return func(c *config) { c.refusals = l }
}

// RefusalSummary is on a record standing for refusals that were counted,
// not recorded one by one.
type RefusalSummary struct {
	// Count is how many refusals the record stands for; none of them has
	// a record of its own.
	Count int `json:"count"`
	// First and Last are when the first and the last of them happened.
	First Time `json:"first"`
	Last  Time `json:"last"`
}

// SourceOther is the source of a summary that counts refusals from
// sources past WithRefusalMaxSources, or summaries the byte budget could not
// pay for one by one.
const SourceOther = "other"

// chainOverhead is what a file sink adds to a record's JSON: seq,
// prev_hash, kid, hash and the newline, and the instance id (at most
// MaxInstanceLen).
const chainOverhead = 192 + len(`,"instance":""`) + MaxInstanceLen

type refusalKey struct {
	source, reason string
	status         int
}

// span counts refusals not written in full and when they happened; both
// aggregators' tallies embed it.
type span struct {
	count       int
	first, last time.Time
}

func (t *span) add(at time.Time, n int) {
	if t.count == 0 || at.Before(t.first) {
		t.first = at
	}
	if at.After(t.last) {
		t.last = at
	}
	t.count += n
}

type refusalTally struct {
	span
	key     refusalKey
	outcome string
	server  ServerInfo
}

// merge counts o into t (the "other" tally).
func (t *refusalTally) merge(o *refusalTally) {
	if t.outcome == "" {
		t.outcome = o.outcome
	} else if t.outcome != o.outcome {
		t.outcome = OutcomeRejected
	}
	if t.server == (ServerInfo{}) {
		t.server = o.server
	}
	first := o.first
	t.add(o.last, o.count)
	if first.Before(t.first) {
		t.first = first
	}
}

// refusalAggregator holds one interval's tallies and the byte budget.
type refusalAggregator struct {
	lim   RefusalLimits
	write func(context.Context, *Record) error
	now   func() time.Time

	mu       sync.Mutex
	keys     map[refusalKey]*refusalTally
	other    *refusalTally // past maxSources, or carried over unpaid
	tokens   float64
	refilled time.Time
	timer    *time.Timer
}

func newRefusalAggregator(lim RefusalLimits, write func(context.Context, *Record) error) *refusalAggregator {
	if lim.interval == 0 {
		lim, _ = NewRefusalLimits()
	}
	g := &refusalAggregator{lim: lim, write: write, now: time.Now, keys: map[refusalKey]*refusalTally{}, tokens: lim.burst}
	g.refilled = g.now()
	return g
}

// refill adds the budget earned since the last call. Called with mu held.
func (g *refusalAggregator) refill(now time.Time) {
	if d := now.Sub(g.refilled); d > 0 {
		g.tokens = min(g.lim.burst, g.tokens+d.Seconds()*g.lim.rate)
		g.refilled = now
	}
}

// arm starts the interval timer if it is not running. Called with mu held.
func (g *refusalAggregator) arm() {
	if g.timer == nil {
		g.timer = time.AfterFunc(g.lim.interval, func() { _ = g.flush(context.Background(), false) })
	}
}

// note records a refusal without an identity: in full if it is the first
// of its key this interval and the budget pays for it, else counted.
func (g *refusalAggregator) note(ctx context.Context, rf Refusal, r *Record) error {
	key := refusalKey{source: r.Source, reason: reasonClass(rf.Reason), status: rf.Status}
	g.mu.Lock()
	g.refill(g.now())
	g.arm()
	t, seen := g.keys[key]
	switch {
	case seen:
		t.add(rf.Time, 1)
		g.mu.Unlock()
		return nil
	case len(g.keys) >= g.lim.maxSources:
		if g.other == nil {
			g.other = &refusalTally{key: refusalKey{source: SourceOther}}
		}
		g.other.merge(&refusalTally{outcome: r.Outcome, server: r.Server, span: span{count: 1, first: rf.Time, last: rf.Time}})
		g.mu.Unlock()
		return nil
	}
	t = &refusalTally{key: key, outcome: r.Outcome, server: r.Server}
	g.keys[key] = t
	size := recordSize(r)
	if g.tokens < size {
		t.add(rf.Time, 1)
		g.mu.Unlock()
		return nil
	}
	g.tokens -= size
	g.mu.Unlock()
	return g.write(ctx, r)
}

// flush ends the interval: one summary record per key with counted
// refusals, largest first, as far as the budget pays; the rest are folded
// into one "other" summary, written if the budget pays for it (always when
// final) and otherwise carried into the next interval.
func (g *refusalAggregator) flush(ctx context.Context, final bool) error {
	g.mu.Lock()
	if g.timer != nil {
		g.timer.Stop()
		g.timer = nil
	}
	now := g.now()
	g.refill(now)
	var pending []*refusalTally
	for _, t := range g.keys {
		if t.count > 0 {
			pending = append(pending, t)
		}
	}
	g.keys = map[refusalKey]*refusalTally{}
	slices.SortFunc(pending, func(a, b *refusalTally) int {
		return cmp.Or(cmp.Compare(b.count, a.count), cmp.Compare(a.key.source, b.key.source),
			cmp.Compare(a.key.status, b.key.status), cmp.Compare(a.key.reason, b.key.reason))
	})
	rest := g.other
	g.other = nil
	var out []*Record
	for _, t := range pending {
		r := summaryRecord(t, now)
		if size := recordSize(r); g.tokens >= size {
			g.tokens -= size
			out = append(out, r)
			continue
		}
		if rest == nil {
			rest = &refusalTally{key: refusalKey{source: SourceOther}}
		}
		rest.merge(t)
	}
	if rest != nil {
		r := summaryRecord(rest, now)
		if size := recordSize(r); final || g.tokens >= size {
			// A final summary may overdraw: later records repay it.
			g.tokens -= size
			out = append(out, r)
		} else {
			g.other = rest
			g.arm()
		}
	}
	g.mu.Unlock()
	var errs []error
	for _, r := range out {
		errs = append(errs, g.write(ctx, r))
	}
	return errors.Join(errs...)
}

func summaryRecord(t *refusalTally, now time.Time) *Record {
	what := fmt.Sprintf("HTTP %d %s: %s", t.key.status, http.StatusText(t.key.status), t.key.reason)
	if t.key.source == SourceOther {
		what = "refusals from sources past the tracked limit, or whose summaries the byte budget could not pay for one by one"
	}
	return &Record{
		ID:       newID(),
		Time:     Time{now.UTC()},
		Server:   t.server,
		Source:   t.key.source,
		Outcome:  t.outcome,
		Error:    fmt.Sprintf("%s (%d refusals counted, not recorded one by one)", what, t.count),
		Refusals: &RefusalSummary{Count: t.count, First: Time{t.first.UTC()}, Last: Time{t.last.UTC()}},
	}
}

// recordSize is what r costs in a file sink, as charged to the budget.
func recordSize(r *Record) float64 {
	b, _ := json.Marshal(r)
	return float64(len(b) + chainOverhead)
}

// reasonClass is the stable part of a refusal reason, the text before the
// first colon or line break ("access token rejected", "origin not
// allowed"): the rest names the caller's own input, which they could vary
// to make every refusal a new key.
func reasonClass(reason string) string {
	if i := strings.IndexAny(reason, ":\n"); i >= 0 {
		reason = reason[:i]
	}
	if len(reason) > 64 {
		reason = strings.ToValidUTF8(reason[:64], "")
	}
	return reason
}

// refusalSource is the key a remote address is counted under: the IP
// address without the port (a new connection is a new port), and for IPv6
// its /64 (one host is usually given a whole /64).
func refusalSource(remote string) string {
	if remote == "" {
		return ""
	}
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		if len(host) > 64 {
			host = strings.ToValidUTF8(host[:64], "")
		}
		return host
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// Close writes the summaries of the current refusal interval (and of
// calls refused by a rate limit) and stops its timers. It does not close the sink, which the caller opened: call it
// first. The Auditor stays usable; a later refusal starts a new interval.
func (a *Auditor) Close(ctx context.Context) error {
	return errors.Join(a.refusals.flush(ctx, true), a.limited.flush(ctx))
}
