package fleet

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"
)

// consoleApprovals decides calls waiting on replica A through the other
// replicas' consoles: one reviewer through B, two at once through B and C,
// and a request whose replica was killed.
func (f *fleet) consoleApprovals(t *testing.T) {
	a, b, c := f.replicas[0], f.replicas[1], f.replicas[2]

	// A is killed while its call waits; it comes back at once, under the
	// same instance id. A reviewer approving its request through B at
	// once, while A's lease on it is still alive, is told within the
	// delivery timeout that nothing ran (409), not 200. The request is
	// checked again in a later scenario (killedRequestNeverApproved).
	killedReason := "console killed"
	done := f.waitingCall(t, a, 2, killedReason)
	killedID := f.pendingOn(t, b, rev1Token, killedReason)
	a.kill(t)
	killed := time.Now()
	f.lost[killedReason]++
	asked := time.Since(killed)
	status, body := decide(t, b, rev1Token, killedID)
	t.Logf("approving the killed call's request %v after A died: %d in %v, %s", asked.Round(100*time.Millisecond), status,
		(time.Since(killed) - asked).Round(100*time.Millisecond), body)
	require.Equal(t, http.StatusConflict, status, "an approval for a call that died with A: %s", body)
	if asked < time.Second {
		// A's lease (6s, renewed every 2s) had at least 4s left: the
		// decision is taken, not acknowledged, and withdrawn.
		require.Contains(t, body, "the waiting call did not take the decision")
	}
	if strings.Contains(body, "the waiting call did not take the decision") {
		// The approval is on the record, then its withdrawal.
		f.undelivered[killedReason] = 1
	} else {
		require.Contains(t, body, "no longer waiting")
	}
	res := waitResult(t, done)
	require.Error(t, res.err, "the caller's connection went with A")
	f.want[killedReason] = 0
	a.start(t, f.bin)

	// A call waiting on A completes when a reviewer approves through B.
	reason := "console via b"
	done = f.waitingCall(t, a, 0, reason)
	id := f.pendingOn(t, b, rev1Token, reason)
	status, body = decide(t, b, rev1Token, id)
	require.Equal(t, http.StatusOK, status, "%s", body)
	require.Contains(t, body, "the waiting call received it")
	f.approved[reason] = 1
	res = waitResult(t, done)
	require.NoError(t, res.err)
	require.NotContains(t, text(res.res), "was not run")
	f.want[reason] = 1
	require.Equal(t, []int{0}, f.ranOn(t)[reason], "ran once, on A")

	// Two reviewers approving at once through B and C: one decision
	// applies, the handler runs once.
	reason = "console twice"
	done = f.waitingCall(t, a, 1, reason)
	id = f.pendingOn(t, c, rev2Token, reason)
	var wg sync.WaitGroup
	statuses := make([]int, 2)
	for i, rv := range []struct {
		r     *replica
		token string
	}{{b, rev1Token}, {c, rev2Token}} {
		wg.Go(func() { statuses[i], _ = decide(t, rv.r, rv.token, id) })
	}
	wg.Wait()
	slices.Sort(statuses)
	require.Equal(t, http.StatusOK, statuses[0], "one approval applied: %v", statuses)
	require.NotEqual(t, http.StatusOK, statuses[1], "the second approval must not apply: %v", statuses)
	f.approved[reason] = 1
	res = waitResult(t, done)
	require.NoError(t, res.err)
	require.NotContains(t, text(res.res), "was not run")
	f.want[reason] = 1
	require.Equal(t, []int{0}, f.ranOn(t)[reason], "ran once, on A")

	f.killed = killedRequest{reason: killedReason, id: killedID, at: killed}
}

// killedRequest is the console request of the call that died with A.
type killedRequest struct {
	reason, id string
	at         time.Time
}

// killedRequestNeverApproved checks the request of the call that died with
// replica A, a scenario later so that A's lease on it has run out: it is
// listed nowhere, no replica's console approves it, A included, and it
// never ran.
func (f *fleet) killedRequestNeverApproved(t *testing.T) {
	k := f.killed
	require.NotEmpty(t, k.id, "the console scenario did not kill a waiting call")
	a, b, c := f.replicas[0], f.replicas[1], f.replicas[2]
	f.gone(t, b, rev1Token, k.id, 30*time.Second)
	t.Logf("the killed call's request was withdrawn from the consoles by %v after A died", time.Since(k.at).Round(100*time.Millisecond))
	for i, r := range []*replica{b, c, a} {
		token := []string{rev1Token, rev2Token, rev1Token}[i]
		status, body := decide(t, r, token, k.id)
		require.NotEqual(t, http.StatusOK, status, "a request whose call died was approved through %s: %s", r.id, body)
	}
	require.Empty(t, f.ranOn(t)[k.reason], "a request whose call died ran")
}

// gone waits until r's console no longer lists request id.
func (f *fleet) gone(t *testing.T, r *replica, token, id string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if !slices.Contains(f.listed(t, r, token), id) {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s's console still lists %s %v after its replica died", r.id, id, within)
}

// listed returns the ids r's console lists to the token's reviewer.
func (f *fleet) listed(t *testing.T, r *replica, token string) []string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, r.console+"/api/pending", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var list struct {
		Pending []struct {
			ID string `json:"id"`
		} `json:"pending"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&list))
	var ids []string
	for _, p := range list.Pending {
		ids = append(ids, p.ID)
	}
	return ids
}

type callResult struct {
	res *mcp.CallToolResult
	err error
}

// waitingCall starts carol's delete on r directly, as a client that cannot
// elicit: it waits for a reviewer in the console.
func (f *fleet) waitingCall(t *testing.T, r *replica, i int, reason string) <-chan callResult {
	t.Helper()
	cs := client(t, r.url(), carolToken, false)
	f.direct[reason]++
	done := make(chan callResult, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "delete_incident", Arguments: deleteArgs(i, reason)})
		done <- callResult{res, err}
	}()
	return done
}

func waitResult(t *testing.T, done <-chan callResult) callResult {
	t.Helper()
	select {
	case r := <-done:
		return r
	case <-time.After(30 * time.Second):
		t.Fatal("the waiting call did not end within 30 s")
		return callResult{}
	}
}

// pendingOn waits until r's console lists the request named reason and
// returns its id.
func (f *fleet) pendingOn(t *testing.T, r *replica, token, reason string) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequest(http.MethodGet, r.console+"/api/pending", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			var list struct {
				Pending []struct {
					ID        string          `json:"id"`
					Arguments json.RawMessage `json:"arguments"`
				} `json:"pending"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&list)
			resp.Body.Close()
			for _, p := range list.Pending {
				var args struct {
					Reason string `json:"reason"`
				}
				if json.Unmarshal(p.Arguments, &args) == nil && args.Reason == reason {
					return p.ID
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s's console never listed %q", r.id, reason)
	return ""
}

// decide approves request id through r's console as the token's reviewer.
func decide(t *testing.T, r *replica, token, id string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, r.console+"/api/pending/"+id+"/approve", strings.NewReader(`{"reason":"checked"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 15 * time.Second}).Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// kill ends the process at once, as a crash or an evicted pod.
func (r *replica) kill(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	cmd, exited := r.cmd, r.exited
	r.mu.Unlock()
	require.NoError(t, cmd.Process.Kill())
	<-exited
}
