package approval

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// reportProgress sends notifications/progress every interval while the call
// waits for a decision, when the client gave a progress token: a client
// that shows progress tells its user the call is waiting for a human, and
// one with a request timeout that resets on progress keeps waiting. The
// returned stop waits for the reporter to finish, so the call is not used
// after the gate returns.
func (g *gate) reportProgress(ctx context.Context, c *mcpkit.Call, r *Request) (stop func()) {
	if c.Request == nil || c.Request.Session == nil || c.Request.Params == nil {
		return func() {}
	}
	token := c.Request.Params.GetProgressToken()
	if token == nil {
		return func() {}
	}
	session := c.Request.Session
	total := math.Ceil(r.Deadline.Sub(r.Created).Seconds())
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(g.cfg.progress)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				left := r.Deadline.Sub(now).Round(time.Second)
				// A failed notification only loses a progress update.
				_ = session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{
					ProgressToken: token,
					Progress:      math.Floor(now.Sub(r.Created).Seconds()),
					Total:         total,
					Message:       fmt.Sprintf("waiting for a human to approve %s (%v left)", r.Tool, left),
				})
			}
		}
	}()
	return func() {
		cancel()
		wg.Wait()
	}
}
