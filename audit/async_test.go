package audit_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
)

func TestAsyncDrainsOnFlushAndClose(t *testing.T) {
	mem := &memSink{}
	a := must(audit.NewAsync(mem, audit.WithQueueSize(4)))
	for i := range 100 {
		require.NoError(t, a.Write(context.Background(), rec(i)))
	}
	require.NoError(t, a.Flush(context.Background()))
	assert.Len(t, mem.all(), 100)
	require.NoError(t, a.Write(context.Background(), rec(100)))
	require.NoError(t, a.Close(context.Background()))
	assert.Len(t, mem.all(), 101)
	assert.ErrorIs(t, a.Write(context.Background(), rec(1)), audit.ErrClosed)
}

func TestAsyncDropModeCountsDrops(t *testing.T) {
	release := make(chan struct{})
	blocked := audit.SinkFunc(func(context.Context, *audit.Record) error { <-release; return nil })
	a := must(audit.NewAsync(blocked, audit.WithQueueSize(2), audit.WithDropWhenFull()))
	var dropped int
	for i := range 10 {
		if err := a.Write(context.Background(), rec(i)); errors.Is(err, audit.ErrQueueFull) {
			dropped++
		}
	}
	// One record is held by the goroutine, two wait in the queue.
	assert.GreaterOrEqual(t, dropped, 7)
	assert.Equal(t, uint64(dropped), a.Dropped())
	close(release)
	require.NoError(t, a.Close(context.Background()))
}

func TestAsyncBlockModeHonoursContext(t *testing.T) {
	release := make(chan struct{})
	blocked := audit.SinkFunc(func(context.Context, *audit.Record) error { <-release; return nil })
	a := must(audit.NewAsync(blocked, audit.WithQueueSize(1)))
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, a.Write(ctx, rec(1)))
	require.NoError(t, a.Write(ctx, rec(2)))
	cancel()
	// The queue is full and ctx is done: Write gives up rather than hang.
	err := a.Write(ctx, rec(3))
	if err != nil {
		assert.ErrorIs(t, err, context.Canceled)
	}
	close(release)
	require.NoError(t, a.Close(context.Background()))
}

func TestFanoutFailsWhenAnySinkFails(t *testing.T) {
	good, bad := &memSink{}, &memSink{}
	bad.setFail(errors.New("down"))
	err := audit.Fanout(good, bad).Write(context.Background(), rec(1))
	require.ErrorContains(t, err, "down")
	assert.Len(t, good.all(), 1)
}
