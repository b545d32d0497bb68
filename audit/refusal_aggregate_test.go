package audit_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkit"
)

func TestRefusalLimitsOutOfRangeAreErrors(t *testing.T) {
	for _, tc := range []struct {
		opt  audit.RefusalOption
		want string
	}{
		{audit.WithRefusalInterval(0), "interval"},
		{audit.WithRefusalInterval(50 * time.Millisecond), "interval"},
		{audit.WithRefusalInterval(25 * time.Hour), "interval"},
		{audit.WithRefusalBytesPerSecond(0), "budget"},
		{audit.WithRefusalBytesPerSecond(-1), "budget"},
		{audit.WithRefusalBurstBytes(1000), "burst"},
		{audit.WithRefusalMaxSources(0), "sources"},
		{audit.WithRefusalMaxSources(2_000_000), "sources"},
	} {
		_, err := audit.NewRefusalLimits(tc.opt)
		assert.ErrorContains(t, err, tc.want)
	}
	_, err := audit.NewRefusalLimits()
	assert.NoError(t, err)
}

// TestRefusalsAggregatePerSourceReasonAndStatus: without an identity, the
// first refusal of a (source, reason, status) is written in full and the
// rest are one summary; a new port is the same source, an IPv6 /64 one
// source; a refusal with an identity always has its own record.
func TestRefusalsAggregatePerSourceReasonAndStatus(t *testing.T) {
	sink := &memSink{}
	a := must(audit.New(sink))
	ctx := context.Background()
	bob := mcpkit.Identity{Subject: "bob", AuthMethod: "jwt"}
	refuse := func(src string, port int, reason string, status int, id *mcpkit.Identity) {
		require.NoError(t, a.Refused(ctx, audit.Refusal{Status: status, Reason: reason, Identity: id, Scope: id != nil,
			Network: mcpkit.Network{ClientAddress: src, ClientPort: port}}))
	}
	for i := range 5 {
		refuse("192.0.2.7", 40000+i, "access token rejected: unknown kid \"k"+fmt.Sprint(i)+"\"", http.StatusUnauthorized, nil)
		refuse(fmt.Sprintf("2001:db8:1:2::%x", i+1), 443, "no access token in the Authorization header", http.StatusUnauthorized, nil)
		refuse("192.0.2.7", 1, "origin not allowed: https://evil"+fmt.Sprint(i)+".example", http.StatusForbidden, nil)
		refuse("192.0.2.9", 1, "insufficient scope for delete_note: missing notes:admin", http.StatusForbidden, &bob)
	}
	full := sink.all()
	require.Len(t, full, 3+5, "three keys in full, and each of bob's refusals")
	assert.Equal(t, "192.0.2.7", full[0].Source)
	assert.Contains(t, full[0].Error, `unknown kid "k0"`, "the first refusal is in full")
	assert.Equal(t, "2001:db8:1:2::/64", full[1].Source)

	require.NoError(t, a.Close(ctx))
	sums := map[string]audit.Record{}
	for _, r := range sink.all()[len(full):] {
		require.NotNil(t, r.Refusals, "after Close only summaries: %+v", r)
		sums[r.Source+" "+r.Outcome] = r
	}
	require.Len(t, sums, 3)
	for key, want := range map[string]int{"192.0.2.7 unauthenticated": 4, "2001:db8:1:2::/64 unauthenticated": 4, "192.0.2.7 rejected": 4} {
		assert.Equal(t, want, sums[key].Refusals.Count, key)
		assert.False(t, sums[key].Refusals.Last.Before(sums[key].Refusals.First.Time))
	}
	assert.Contains(t, sums["192.0.2.7 rejected"].Error, "HTTP 403 Forbidden: origin not allowed")
	assert.NotContains(t, sums["192.0.2.7 rejected"].Error, "evil", "a summary keeps only the stable part of the reason")

	// A closed interval starts over: the next refusal is in full again.
	n := len(sink.all())
	refuse("192.0.2.7", 5, "access token rejected: x", http.StatusUnauthorized, nil)
	require.Len(t, sink.all(), n+1)
	require.NoError(t, a.Close(ctx))
	assert.Len(t, sink.all(), n+1, "no summary for a key refused once")
}

// TestRefusalSummaryArrivesWithoutClose: summaries are written when the
// interval ends, not only at Close.
func TestRefusalSummaryArrivesWithoutClose(t *testing.T) {
	sink := &memSink{}
	lim, err := audit.NewRefusalLimits(audit.WithRefusalInterval(100 * time.Millisecond))
	require.NoError(t, err)
	a := must(audit.New(sink, audit.WithRefusalLimits(lim)))
	for range 3 {
		require.NoError(t, a.Refused(context.Background(), audit.Refusal{Status: http.StatusUnauthorized, Reason: "no access token", Network: mcpkit.Network{ClientAddress: "198.51.100.1"}}))
	}
	require.Eventually(t, func() bool { return len(sink.all()) == 2 }, 5*time.Second, 20*time.Millisecond)
	s := sink.all()[1]
	require.NotNil(t, s.Refusals)
	assert.Equal(t, 2, s.Refusals.Count)
	require.NoError(t, a.Close(context.Background()))
	assert.Len(t, sink.all(), 2)
}

// TestRefusalBudgetCarriesCountsForward: with a budget too small for every
// key's summary, what it cannot pay for is folded into one "other"
// summary, so the counts still add up.
func TestRefusalBudgetCarriesCountsForward(t *testing.T) {
	sink := &memSink{}
	lim, err := audit.NewRefusalLimits(audit.WithRefusalBytesPerSecond(1), audit.WithRefusalBurstBytes(4<<10), audit.WithRefusalMaxSources(100))
	require.NoError(t, err)
	a := must(audit.New(sink, audit.WithRefusalLimits(lim)))
	total := 0
	for ip := range 50 {
		for range 3 {
			require.NoError(t, a.Refused(context.Background(), audit.Refusal{Status: http.StatusUnauthorized, Reason: "no access token",
				Network: mcpkit.Network{ClientAddress: fmt.Sprintf("203.0.113.%d", ip)}}))
			total++
		}
	}
	require.NoError(t, a.Close(context.Background()))
	recs := sink.all()
	assert.Less(t, len(recs), 20, "the budget bounds the records")
	counted := 0
	var other bool
	for _, r := range recs {
		if r.Refusals == nil {
			counted++
			continue
		}
		counted += r.Refusals.Count
		other = other || r.Source == audit.SourceOther
	}
	assert.Equal(t, total, counted)
	assert.True(t, other)
}
