package audit

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// Calls refused by a rate limit (outcome denied_rate) are the ones a caller
// sends as fast as it can: one record each would let the limited caller
// write the audit log at the rate the limit refuses. So, per subject and
// tool, the first such refusal of an interval (WithRefusalLimits'
// interval, default 1m) is recorded in full and the others are counted
// into one summary record (with a RefusalSummary) at the interval's end:
// at most two records per subject and tool per interval. At most
// RefusalMaxSources (subject, tool) keys are tracked in an interval;
// refusals past it are counted into one summary without a principal. The
// same holds for the transport's 429 refusals (Auditor.Refused with an
// Identity and status 429).

type limitedKey struct{ subject, tool string }

type limitedTally struct {
	span        // the others, counted
	rec  Record // the first, recorded in full
}

// limitedAggregator holds one interval's denied_rate tallies.
type limitedAggregator struct {
	lim   RefusalLimits
	write func(context.Context, *Record) error

	mu    sync.Mutex
	keys  map[limitedKey]*limitedTally
	other *limitedTally
	timer *time.Timer
}

func newLimitedAggregator(lim RefusalLimits, write func(context.Context, *Record) error) *limitedAggregator {
	if lim.interval == 0 {
		lim, _ = NewRefusalLimits()
	}
	return &limitedAggregator{lim: lim, write: write, keys: map[limitedKey]*limitedTally{}}
}

// absorb counts r, a denied_rate record, and reports true when it must not
// be written (it is counted into a later summary); false for the first of
// its key this interval, which the caller writes.
func (g *limitedAggregator) absorb(r *Record) bool {
	at := r.Time.Time
	key := limitedKey{subject: r.Principal.Subject, tool: r.Tool}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.timer == nil {
		g.timer = time.AfterFunc(g.lim.interval, func() { _ = g.flush(context.Background()) })
	}
	if t, seen := g.keys[key]; seen {
		t.add(at, 1)
		return true
	}
	if len(g.keys) >= g.lim.maxSources {
		if g.other == nil {
			g.other = &limitedTally{rec: Record{Server: r.Server, Source: SourceOther}}
		}
		g.other.add(at, 1)
		return true
	}
	g.keys[key] = &limitedTally{rec: *r}
	return false
}

// flush ends the interval: one summary per key with counted refusals.
func (g *limitedAggregator) flush(ctx context.Context) error {
	g.mu.Lock()
	if g.timer != nil {
		g.timer.Stop()
		g.timer = nil
	}
	var out []*Record
	now := time.Now().UTC()
	for _, t := range g.keys {
		if t.count > 0 {
			out = append(out, t.summary(now))
		}
	}
	slices.SortFunc(out, func(a, b *Record) int {
		return cmp.Or(cmp.Compare(a.Principal.Subject, b.Principal.Subject), cmp.Compare(a.Tool, b.Tool))
	})
	if g.other != nil {
		out = append(out, g.other.summary(now))
	}
	g.keys = map[limitedKey]*limitedTally{}
	g.other = nil
	g.mu.Unlock()
	var errs []error
	for _, r := range out {
		errs = append(errs, g.write(ctx, r))
	}
	return errors.Join(errs...)
}

func (t *limitedTally) summary(now time.Time) *Record {
	r := &Record{
		ID:        newID(),
		Time:      Time{now},
		Server:    t.rec.Server,
		Tool:      t.rec.Tool,
		Risk:      t.rec.Risk,
		Principal: t.rec.Principal,
		Source:    t.rec.Source,
		Outcome:   string(mcpkit.OutcomeDeniedRate),
		Error:     fmt.Sprintf("%d more calls refused by a rate limit, counted, not recorded one by one", t.count),
		Refusals:  &RefusalSummary{Count: t.count, First: Time{t.first.UTC()}, Last: Time{t.last.UTC()}},
	}
	if t.rec.Source == SourceOther {
		r.Error = fmt.Sprintf("%d calls refused by a rate limit from callers past the tracked limit, counted, not recorded one by one", t.count)
	}
	return r
}
