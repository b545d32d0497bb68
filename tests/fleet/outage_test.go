package fleet

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"
)

// postgresOutage stops PostgreSQL mid-run: destructive calls are refused
// whether approved in the client or waiting for the console, read-only
// calls go on (decided locally under the rate limit), and everything
// works again once the database is back, without a restart.
func (f *fleet) postgresOutage(t *testing.T) {
	ctx := context.Background()
	carol := client(t, f.proxy.url, carolToken, true)
	carolConsole := client(t, f.proxy.url, carolToken, false)
	bob := client(t, f.proxy.url, bobToken, false)
	require.NoError(t, f.pg.Stop(ctx))
	restarted := false
	defer func() {
		if !restarted {
			_ = f.pg.Start(ctx)
		}
	}()
	deleteCall := func(reason string, i int) *mcp.CallToolResult {
		ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		res, err := carol.CallTool(ctx, &mcp.CallToolParams{Name: "delete_incident", Arguments: deleteArgs(i, reason)})
		require.NoError(t, err, reason)
		return res
	}
	for i := range 3 {
		reason := fmt.Sprintf("outage %d", i)
		var res *mcp.CallToolResult
		if i < 2 {
			res = deleteCall(reason, i)
		} else {
			// A client that cannot elicit: the console cannot record
			// its request.
			var err error
			res, err = carolConsole.CallTool(ctx, &mcp.CallToolParams{Name: "delete_incident", Arguments: deleteArgs(i, reason)})
			require.NoError(t, err)
		}
		require.True(t, res.IsError, "%s: a destructive call ran without the shared state", reason)
		require.Contains(t, text(res), "was not run: it needs a human's approval and none could be asked")
		f.want[reason] = 0
	}
	for i := range 6 {
		res, err := bob.CallTool(ctx, &mcp.CallToolParams{Name: "get_incident", Arguments: map[string]any{"id": "INC-1050"}})
		require.NoError(t, err)
		require.False(t, res.IsError, "read %d refused while PostgreSQL is down: %s", i, text(res))
		time.Sleep(150 * time.Millisecond)
	}

	require.NoError(t, f.pg.Start(ctx))
	restarted = true
	// Recovery: within a bounded time destructive calls run again.
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; ; i++ {
		reason := fmt.Sprintf("recovered %d", i)
		res := deleteCall(reason, 10+i)
		if !strings.Contains(text(res), "was not run") {
			f.want[reason] = 1
			break
		}
		f.want[reason] = 0
		require.True(t, time.Now().Before(deadline), "destructive calls still refused 30 s after PostgreSQL came back: %s", text(res))
		time.Sleep(250 * time.Millisecond)
	}
	// And the console too: a call waiting on B is approved through C.
	reason := "console after outage"
	done := f.waitingCall(t, f.replicas[1], 20, reason)
	id := f.pendingOn(t, f.replicas[2], rev2Token, reason)
	status, body := decide(t, f.replicas[2], rev2Token, id)
	require.Equal(t, http.StatusOK, status, "%s", body)
	res := waitResult(t, done)
	require.NoError(t, res.err)
	require.NotContains(t, text(res.res), "was not run")
	f.want[reason] = 1
	f.approved[reason] = 1
}
