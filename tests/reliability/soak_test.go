package reliability

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.uber.org/goleak"

	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

const soakClients = 100

// soakCalls is N: MCPKIT_SOAK=full for the full soak, else a size that
// keeps go test fast (smaller under the race detector, which slows each
// call several times over).
func soakCalls() int {
	if os.Getenv("MCPKIT_SOAK") == "full" {
		return 100_000
	}
	if raceEnabled {
		return 2_000
	}
	return 10_000
}

// tally counts the calls the clients made, by the kind of record each must
// leave (see kind).
type tally struct {
	mu sync.Mutex
	m  map[string]int
}

func (t *tally) add(k string) {
	t.mu.Lock()
	t.m[k]++
	t.mu.Unlock()
}

// TestSoak: 100 concurrent clients make N calls over streamable HTTP with a
// mix of every outcome; afterwards there is exactly one final audit record
// per call, per kind, one record per HTTP refusal, the chain verifies, no
// goroutine is left and the heap is back near its start.
func TestSoak(t *testing.T) {
	n := soakCalls()
	perClient := n / soakClients
	timeout := 60 * time.Second
	if n > 10_000 {
		timeout = 15 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	leaks := goleak.IgnoreCurrent()
	var before, peak, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	st := newStack(t, stackConfig{})
	made := &tally{m: map[string]int{}}
	var failures atomic.Int64
	fail := func(format string, args ...any) {
		if failures.Add(1) <= 10 {
			t.Errorf(format, args...)
		}
	}
	// HTTP refusals as the clients saw them, and the 401s alone.
	var refusedSeen, unauthorizedSeen atomic.Int64
	hcGood, trGood := httpClient(aliceToken, 2*soakClients, &refusedSeen)
	hcBob, trBob := httpClient(bobToken, 16, &refusedSeen)
	hcBad, trBad := httpClient(wrongToken, 16, &unauthorizedSeen)

	start := time.Now()
	var wg sync.WaitGroup
	for c := range soakClients {
		wg.Go(func() {
			switch {
			case c%20 == 7: // 5 clients with a wrong token
				for range perClient {
					cs, err := connect(ctx, st.url, hcBad)
					if err == nil {
						_ = cs.Close()
						fail("a wrong token connected")
						return
					}
					if !strings.Contains(err.Error(), "Unauthorized") && !strings.Contains(err.Error(), "not accepted") {
						fail("wrong token: %v", err)
					}
					made.add("connect with a wrong token")
				}
			case c%20 == 13: // 5 clients without the write scope
				soakClient(ctx, st.url, hcBob, perClient, c, made, fail, bobCall)
			default:
				soakClient(ctx, st.url, hcGood, perClient, c, made, fail, aliceCall)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	runtime.ReadMemStats(&peak)
	st.close()
	for _, tr := range []interface{ CloseIdleConnections() }{trGood, trBob, trBad} {
		tr.CloseIdleConnections()
	}
	if failures.Load() > 0 {
		t.Fatalf("%d calls did not answer as expected", failures.Load())
	}

	final, starts := records(t, st.auditPath)
	got := map[string]int{}
	for _, r := range final {
		// Refusals without an identity are aggregated: a summary record
		// stands for the refusals it counts.
		if r.Refusals != nil {
			got[kind(r)] += r.Refusals.Count
			continue
		}
		got[kind(r)]++
	}
	total := 0
	for _, v := range made.m {
		total += v
	}
	if total != perClient*soakClients { // before the 401s replace the connects
		t.Errorf("clients made %d calls, want %d", total, perClient*soakClients)
	}
	// A wrong-token connect is refused at each HTTP request the go-sdk
	// client sends; each refusal has its record or is in a summary's count.
	made.m["/unauthenticated"] = int(unauthorizedSeen.Load())
	attempts := made.m["connect with a wrong token"]
	delete(made.m, "connect with a wrong token")
	if made.m["/unauthenticated"] < attempts || attempts == 0 {
		t.Errorf("%d wrong-token connects saw %d 401s", attempts, made.m["/unauthenticated"])
	}
	for _, k := range slices.Sorted(maps.Keys(made.m)) {
		t.Logf("%-45s calls %6d  records %6d", k, made.m[k], got[k])
	}
	if !maps.Equal(got, made.m) {
		t.Errorf("final records per kind differ from the calls made:\nrecords %v\ncalls   %v", got, made.m)
	}
	refused := unauthorizedSeen.Load() + refusedSeen.Load()
	if st.refusals.Load() != refused || refusedSeen.Load() != int64(made.m["send_payment/denied_scope"]) {
		t.Errorf("the reject hook saw %d refusals, clients got %d refusals (%d for scope, %d calls without the scope)",
			st.refusals.Load(), refused, refusedSeen.Load(), made.m["send_payment/denied_scope"])
	}
	// Each write-ahead record belongs to exactly one final record.
	outcomes := map[string]string{}
	for _, r := range final {
		outcomes[r.ID] = r.Outcome
	}
	for _, r := range starts {
		switch o, ok := outcomes[r.ID]; {
		case !ok:
			t.Errorf("start record %s (%s) has no final record", r.ID, r.Tool)
		case o != "ok":
			t.Errorf("start record %s (%s) belongs to a call whose handler never ran (outcome %s)", r.ID, r.Tool, o)
		}
	}
	// The write-ahead record is written immediately before the handler runs,
	// so only calls that passed every gate and approval have one.
	if want := made.m["send_payment/ok"] + made.m["send_payment/ok/approved"]; len(starts) != want {
		t.Errorf("%d write-ahead records, want one per write or destructive call whose handler ran (%d)", len(starts), want)
	}
	if r := st.runs["purge_items"].Load(); r != 0 {
		t.Errorf("the flagged-off tool ran %d times", r)
	}
	if r, want := st.runs["send_payment"].Load(), int64(made.m["send_payment/ok"]+made.m["send_payment/ok/approved"]); r != want {
		t.Errorf("send_payment ran %d times, approved or not needing approval %d", r, want)
	}

	goleak.VerifyNone(t, leaks)
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	// After teardown nothing per call may stay reachable. What may stay is
	// bounded by the number of types, not calls: encoding/json and reflect
	// caches, the go-sdk's and jsonschema's per-type schema caches, the
	// runtime's span and stack caches. 8 MiB covers those with room; a leak
	// of 1 KiB per call is 10 MiB at the default N and 100 MiB at full.
	const bound = 8 << 20
	growth := int64(after.HeapInuse) - int64(before.HeapInuse)
	rate := float64(len(final)) / elapsed.Seconds()
	t.Logf("soak: %d calls (%d of them wrong-token connects, refused at %d requests) from %d clients in %v: %.0f records/s; %d final + %d write-ahead records, chain verified",
		total, attempts, made.m["/unauthenticated"], soakClients, elapsed.Round(time.Millisecond), rate, len(final), len(starts))
	t.Logf("soak: heap in use %s before, %s at the end of the load, %s after teardown (growth %s, bound %s)",
		mib(before.HeapInuse), mib(peak.HeapInuse), mib(after.HeapInuse), mib(uint64(max(growth, 0))), mib(bound))
	if growth > bound {
		t.Errorf("heap in use grew by %s over the soak (bound %s)", mib(uint64(growth)), mib(bound))
	}
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// Answers a soak call expects.
const (
	wantOK      = "ok"       // a result
	wantIsError = "is_error" // an isError result (a refusal by the server)
	wantError   = "error"    // a protocol or HTTP error
)

// soakCall is client c's i-th call: what to call, the kind of record it
// must leave and the answer it must get.
type soakCall func(c, i int) (params *mcp.CallToolParams, kind, want string)

// aliceCall cycles through every outcome a caller with all scopes can get.
func aliceCall(c, i int) (*mcp.CallToolParams, string, string) {
	call := func(name string, args map[string]any) *mcp.CallToolParams {
		return &mcp.CallToolParams{Name: name, Arguments: args}
	}
	switch (c + i) % 10 {
	case 4:
		return call("get_item", map[string]any{"id": "nope"}), "get_item/invalid_input", wantIsError
	case 5:
		return call("purge_items", map[string]any{"before": "2026-01-01"}), "purge_items/denied_flag", wantIsError
	case 6:
		return call("send_payment", map[string]any{"to": "acct", "amount": 50}), "send_payment/ok", wantOK
	case 7:
		return call("send_payment", map[string]any{"to": "acct", "amount": 200 + 2*i}), "send_payment/ok/approved", wantOK
	case 8:
		return call("send_payment", map[string]any{"to": "acct", "amount": 201 + 2*i}), "send_payment/denied_approval/denied", wantIsError
	case 9:
		return call("no_such_tool", map[string]any{}), "no_such_tool/unknown_tool", wantError
	}
	return call("get_item", map[string]any{"id": fmt.Sprintf("I-%03d", i%1000)}), "get_item/ok", wantOK
}

// bobCall alternates a read he may make and a write his token lacks the
// scope for (refused by the transport with 403).
func bobCall(_, i int) (*mcp.CallToolParams, string, string) {
	if i%2 == 0 {
		return &mcp.CallToolParams{Name: "get_item", Arguments: map[string]any{"id": "I-001"}}, "get_item/ok", wantOK
	}
	return &mcp.CallToolParams{Name: "send_payment", Arguments: map[string]any{"to": "acct", "amount": 5}}, "send_payment/denied_scope", wantError
}

// soakClient connects once, makes n calls checking each answer, and
// closes its session.
func soakClient(ctx context.Context, url string, hc *http.Client, n, c int, made *tally, fail func(string, ...any), next soakCall) {
	cs, err := connect(ctx, url, hc)
	if err != nil {
		fail("client %d: connect: %v", c, err)
		return
	}
	defer cs.Close()
	for i := range n {
		params, k, want := next(c, i)
		res, err := cs.CallTool(ctx, params)
		got := wantOK
		switch {
		case err != nil:
			got = wantError
		case res.IsError:
			got = wantIsError
		}
		if got != want {
			detail := fmt.Sprint(err)
			if res != nil {
				detail = mcpkittest.Text(res)
			}
			fail("client %d call %d (%s): got %s, want %s: %s", c, i, k, got, want, detail)
			return
		}
		made.add(k)
	}
}
