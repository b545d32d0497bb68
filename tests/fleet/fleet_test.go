package fleet

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/internal/loopback/loopbacktest"
	"github.com/mcpkit-go/mcpkit/internal/pgtest"
)

// pg is the throwaway PostgreSQL the fleet shares (internal/pgtest).
var pg pgtest.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	pg.Remove()
	os.Exit(code)
}

// fleet is three replicas of examples/incidents sharing one PostgreSQL,
// behind a round-robin proxy, and the tally of what the test did to them.
type fleet struct {
	pg        *pgtest.Cluster
	passwords []string // the database roles': never in a log
	replicas  []*replica
	bin       string
	proxy     *proxy

	// want is how many times each delete (named by its reason) must
	// have run, fleet-wide.
	want map[string]int
	// replays counts the refused replays of each answered state.
	replays map[string]int
	// approved counts the console approvals that applied to each call.
	approved map[string]int
	// undelivered counts the console approvals the waiting call did not
	// take (withdrawn, 409): on the record as approved, then not_waiting.
	undelivered map[string]int
	// direct counts the calls sent to a replica without the proxy, and
	// lost those whose replica was killed before it could record them.
	direct, lost map[string]int
	// aliceOK and aliceLimited are alice's read-only calls the fleet
	// served and refused for her rate limit.
	aliceOK, aliceLimited int
	// killed is the request of the call killed with replica A.
	killed killedRequest
}

// TestFleet runs the incidents example as a fleet of three replicas on
// loopback, sharing approval states, console requests and rate limits in
// PostgreSQL, behind a round-robin reverse proxy that never routes a
// client back to the same replica on purpose.
func TestFleet(t *testing.T) {
	began := time.Now()
	dir := t.TempDir()
	built := buildExample(dir) // while PostgreSQL starts
	c := pg.Get(t)
	require.NoError(t, <-built)
	f := &fleet{pg: c, bin: filepath.Join(dir, "incidents"), want: map[string]int{}, replays: map[string]int{},
		direct: map[string]int{}, lost: map[string]int{}, approved: map[string]int{}, undelivered: map[string]int{}}
	ownerURL, replicaURL := database(t, c)
	for _, s := range []string{ownerURL, replicaURL} {
		u, err := url.Parse(s)
		require.NoError(t, err)
		pw, _ := u.User.Password()
		f.passwords = append(f.passwords, pw)
	}
	tokens := filepath.Join(dir, "tokens.json")
	require.NoError(t, os.WriteFile(tokens, []byte(tokensJSON), 0o600))

	var backends []string
	for i := range 3 {
		r := &replica{
			id:        fmt.Sprintf("replica-%c", 'a'+i),
			httpAddr:  loopbacktest.FreeAddr(t),
			auditPath: filepath.Join(dir, fmt.Sprintf("replica-%c", 'a'+i), "incidents-audit.jsonl"),
		}
		consoleAddr := loopbacktest.FreeAddr(t)
		r.console = "http://" + consoleAddr
		require.NoError(t, os.MkdirAll(filepath.Dir(r.auditPath), 0o700))
		r.args = []string{"-http", r.httpAddr, "-tokens", tokens, "-audit", r.auditPath,
			"-instance-id", r.id, "-replicas", "3", "-console", consoleAddr, "-rate-limit", rateSpec}
		f.replicas = append(f.replicas, r)
		backends = append(backends, r.url())
	}
	// The runbook's first deployment: one run with the owner's URL
	// migrates the schema, role.sql grants the replica role its rows, and
	// the replicas run as that role, which may not change the schema.
	migrate := &replica{id: "migrate", httpAddr: loopbacktest.FreeAddr(t), auditPath: filepath.Join(dir, "migrate", "audit.jsonl")}
	migrate.args = []string{"-http", migrate.httpAddr, "-tokens", tokens, "-audit", migrate.auditPath, "-instance-id", "migrate"}
	migrate.env = []string{"INCIDENTS_APPROVAL_KEYS=" + approvalKeys, "INCIDENTS_SHARED_STATE=" + ownerURL}
	migrate.start(t, f.bin)
	migrate.stop(t)
	grantReplica(t, c)
	for _, r := range f.replicas {
		r.env = []string{"INCIDENTS_APPROVAL_KEYS=" + approvalKeys, "INCIDENTS_SHARED_STATE=" + replicaURL}
		require.NoError(t, r.launch(f.bin))
		t.Cleanup(func() { r.stop(t) })
	}
	for _, r := range f.replicas {
		r.ready(t)
		for _, pw := range f.passwords {
			require.NotContains(t, migrate.log()+r.log(), pw, "a log holds a database password")
		}
	}
	f.proxy = newProxy(t, backends)
	t.Logf("PostgreSQL, the example built, the schema migrated and three replicas up in %v", time.Since(began).Round(100*time.Millisecond))

	// Each scenario leaves the fleet serving for the next; the last one
	// stops it and reads the audit logs.
	t.Run("in-client approvals answered on another replica run once", f.inClientApprovals)
	t.Run("console approvals reach the replica whose call waits", f.consoleApprovals)
	t.Run("one identity's rate limit holds across the fleet", f.sharedRateLimit)
	t.Run("a killed replica's waiting request is never approved", f.killedRequestNeverApproved)
	t.Run("postgres outage refuses destructive calls and keeps reads going", f.postgresOutage)
	t.Run("every audit chain verifies and adds up", f.auditAddsUp)
}

// inClientCalls is how many destructive calls are approved in the client.
const inClientCalls = 200

// deleteArgs are the arguments of the i-th delete named reason. Deletes
// take INC-1001 to INC-1040 (a replica may have deleted one already: the
// handler then runs and reports it gone); reads take INC-1049 and INC-1050,
// which stay.
func deleteArgs(i int, reason string) map[string]any {
	return map[string]any{"id": fmt.Sprintf("INC-%04d", 1001+i%40), "reason": reason}
}

func (f *fleet) inClientApprovals(t *testing.T) {
	cs := client(t, f.proxy.url, carolToken, true)
	var answers []hop
	for i := range inClientCalls {
		reason := fmt.Sprintf("in-client %03d", i)
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "delete_incident", Arguments: deleteArgs(i, reason)})
		cancel()
		require.NoError(t, err, reason)
		require.NotContains(t, text(res), "was not run", reason)
		f.want[reason] = 1
		hops := f.proxy.calls(reason)
		require.Equal(t, 2, len(hops), "%s: the ask and the answer", reason)
		require.False(t, hops[0].state, reason)
		require.True(t, hops[1].state, "%s: the answering round carries the state", reason)
		require.NotEqual(t, hops[0].backend, hops[1].backend, "%s: the answer must land on another replica", reason)
		answers = append(answers, hops[1])
	}
	ranOn := f.ranOn(t)
	for _, a := range answers {
		require.Equal(t, []int{a.backend}, ranOn[a.reason], "%s ran once, on the replica that took the answer", a.reason)
	}

	// Replaying an answered state, byte for byte, on any replica is
	// refused: every state on every replica, one replica per goroutine.
	hc := &http.Client{Timeout: 10 * time.Second}
	refused := make([][]string, len(f.replicas))
	var wg sync.WaitGroup
	for i, r := range f.replicas {
		wg.Go(func() {
			for _, a := range answers {
				status, body := post(hc, r.url()+"/mcp", a.header, a.body)
				isErr, txt, ok := toolResult(body)
				if status != http.StatusOK || !ok || !isErr || !strings.Contains(txt, "requestState has already been used") {
					t.Errorf("%s replayed on %s was not refused as used: %d %s", a.reason, r.id, status, body)
					continue
				}
				refused[i] = append(refused[i], a.reason)
			}
		})
	}
	wg.Wait()
	for _, reasons := range refused {
		for _, reason := range reasons {
			f.replays[reason]++
		}
	}
	require.False(t, t.Failed())
	ranOn = f.ranOn(t)
	for _, a := range answers {
		require.Len(t, ranOn[a.reason], 1, "%s ran again after a replay", a.reason)
	}
}

func (f *fleet) sharedRateLimit(t *testing.T) {
	// alice's first call, through a real client, is the template the
	// load replays: the same request, again and again, as fast as three
	// connections go.
	alice := client(t, f.proxy.url, aliceToken, false)
	res, err := alice.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_incident", Arguments: map[string]any{"id": "INC-1049"}})
	require.NoError(t, err)
	require.False(t, res.IsError, text(res))
	f.aliceOK++
	tmpl, ok := f.proxy.lastCall("get_incident")
	require.True(t, ok)
	time.Sleep(200 * time.Millisecond) // the bucket's one token back

	const window = 10 * time.Second
	start := time.Now()
	stop := start.Add(window)
	var allowed, limited, other atomic.Int64
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			for time.Now().Before(stop) {
				req, _ := http.NewRequest(http.MethodPost, f.proxy.url+"/mcp", bytes.NewReader(tmpl.body))
				req.Header = tmpl.header.Clone()
				resp, err := hc.Do(req)
				if err != nil {
					other.Add(1)
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				switch isErr, _, ok := toolResult(b); {
				case resp.StatusCode == http.StatusTooManyRequests:
					limited.Add(1)
				case resp.StatusCode == http.StatusOK && ok && !isErr:
					allowed.Add(1)
				default:
					other.Add(1)
				}
			}
		})
	}
	// bob reads at 4 calls a second meanwhile, through a real client: his
	// limit is his own.
	bob := client(t, f.proxy.url, bobToken, false)
	var bobCalls int
	for time.Now().Before(stop) {
		res, err := bob.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_incident", Arguments: map[string]any{"id": "INC-1050"}})
		require.NoError(t, err)
		require.False(t, res.IsError, "bob was limited by alice's load: %s", text(res))
		bobCalls++
		time.Sleep(250 * time.Millisecond)
	}
	wg.Wait()
	end := time.Now()
	require.Zero(t, other.Load(), "answers that were neither a result nor a 429")
	require.NotZero(t, limited.Load(), "alice's load never hit the limit")
	f.aliceOK += int(allowed.Load())
	f.aliceLimited += int(limited.Load())

	// Server side: the calls the fleet served alice, per second of the
	// window, from every replica's audit log.
	perSecond := make([]int, int(end.Sub(start)/time.Second)+1)
	served := 0
	for _, r := range f.replicas {
		for _, rec := range records(t, r.auditPath) {
			if rec.Principal.Subject != "alice" || rec.Outcome != "ok" || rec.Tool != "get_incident" {
				continue
			}
			if rec.Time.Before(start) || rec.Time.After(end) {
				continue
			}
			served++
			perSecond[int(rec.Time.Sub(start)/time.Second)]++
		}
	}
	t.Logf("alice: %d served, %d limited in %v; per second %v; bob: %d calls, none limited", allowed.Load(), limited.Load(), end.Sub(start).Round(time.Millisecond), perSecond, bobCalls)
	assert.Equal(t, int(allowed.Load()), served, "the audit logs hold every call the fleet served alice")
	// The limit itself: over the whole window, 10/s plus the burst of one.
	assert.LessOrEqual(t, served, int(end.Sub(start).Seconds()*10)+1, "more than 10/s over the window")
	// Per second, 11 (10/s + the burst); plus one, because a record's
	// time is taken on its replica before the database decides, so a
	// call granted just after a second's boundary may be counted in the
	// second before it on a loaded machine.
	for s, n := range perSecond {
		assert.LessOrEqual(t, n, 12, "second %d: the fleet served alice more than 10/s (+1 burst, +1 for the replica's clock)", s)
	}
	assert.GreaterOrEqual(t, bobCalls, 10, "bob's reads went on")
}

func (f *fleet) auditAddsUp(t *testing.T) {
	for _, r := range f.replicas {
		r.stop(t)
	}
	runs := map[string]int{}
	finals := map[string]int{}
	reviews, undelivered := map[string]int{}, map[string]int{}
	replayRefusals := map[string]int{}
	aliceOK, aliceLimited := 0, 0
	outcomes := map[string]int{}
	for _, r := range f.replicas {
		rot, err := audit.RotatedFiles(r.auditPath)
		require.NoError(t, err)
		files := append(rot, r.auditPath)
		keys, err := audit.ReadKeyFile(r.auditPath + ".key")
		require.NoError(t, err)
		res, err := audit.Verify(keys, files...)
		require.NoError(t, err, "%s's audit chain", r.id)
		t.Logf("%s: %d records verified", r.id, res.Calls)
		assert.Equal(t, map[string]int{r.id: res.Calls}, res.Counts.Instances, "every record of %s names it", r.id)
		ranHere := 0
		for _, p := range files {
			for _, rec := range records(t, p) {
				if rec.Tool == "delete_incident" && ran(rec) {
					ranHere++
				}
				outcomes[rec.Tool+"/"+rec.Phase+rec.Outcome]++
				if rec.Review != nil {
					// A console event, its principal the reviewer.
					if rec.Outcome == "review_approved" {
						reviews[reasonOf(rec)]++
					}
					if rec.Outcome == "review_not_waiting" && strings.Contains(rec.Error, "did not take the decision") {
						undelivered[reasonOf(rec)]++
					}
					continue
				}
				if rec.Tool == "delete_incident" && rec.Phase == "" {
					finals[reasonOf(rec)]++
				}
				switch {
				case rec.Tool == "delete_incident" && ran(rec):
					runs[reasonOf(rec)]++
				case rec.Tool == "delete_incident" && rec.Outcome == "denied_approval" && f.replays[reasonOf(rec)] > 0:
					replayRefusals[reasonOf(rec)]++
				case rec.Principal.Subject == "alice" && rec.Outcome == "ok":
					aliceOK++
				case rec.Principal.Subject == "alice" && rec.Outcome == "denied_rate":
					n := 1
					if rec.Refusals != nil {
						n = rec.Refusals.Count
					}
					aliceLimited += n
				}
			}
		}
		assert.Equal(t, ranHere, res.Counts.Start, "%s: one write-ahead record per delete that ran", r.id)
		for _, pw := range f.passwords {
			assert.NotContains(t, r.log(), pw, "%s logged a database password", r.id)
		}
	}
	t.Logf("records by tool/outcome: %v", outcomes)
	for reason, n := range f.want {
		assert.Equal(t, n, runs[reason], "handler runs of %q", reason)
	}
	for reason := range runs {
		_, ok := f.want[reason]
		assert.True(t, ok, "a delete the test did not ask for ran: %q", reason)
	}
	// Every delete request a replica received has one final record: the
	// ask (input_required), the answer, each replay, each direct call;
	// only the call of the killed replica has none.
	for reason := range f.want {
		sent := len(f.proxy.calls(reason)) + f.replays[reason] + f.direct[reason] - f.lost[reason]
		assert.Equal(t, sent, finals[reason], "final records of %q", reason)
	}
	for reason, n := range f.replays {
		assert.Equal(t, n, replayRefusals[reason], "refused replays of %q on the record", reason)
	}
	for reason := range f.want {
		assert.Equal(t, f.approved[reason]+f.undelivered[reason], reviews[reason], "console approvals of %q on the record", reason)
		assert.Equal(t, f.undelivered[reason], undelivered[reason], "console approvals of %q the waiting call did not take, on the record", reason)
	}
	assert.Equal(t, f.aliceOK, aliceOK, "alice's served calls on the record")
	assert.Equal(t, f.aliceLimited, aliceLimited, "alice's 429s on the record (denied_rate, summaries counted)")
}

// ranOn maps each delete's reason to the replicas (by index) whose audit
// log says its handler ran.
func (f *fleet) ranOn(t *testing.T) map[string][]int {
	t.Helper()
	out := map[string][]int{}
	for i, r := range f.replicas {
		for _, rec := range records(t, r.auditPath) {
			if rec.Tool == "delete_incident" && ran(rec) {
				out[reasonOf(rec)] = append(out[reasonOf(rec)], i)
			}
		}
	}
	return out
}
