package approval_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

func TestElicitApprovedCallRuns(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			kr, _ := newKeyring(t)
			srv, it, rec := newServer(t, elicitApprover(t, kr, approval.ElicitConfig{}))
			var asked *mcp.ElicitParams
			cs := mcpkittest.NewHarness(t, srv, mcpkittest.WithClientInfo("alice", "1"), mcpkittest.WithProtocolVersion(p.version), mcpkittest.WithClientOptions(&mcp.ClientOptions{
				ElicitationHandler: func(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
					asked = req.Params
					return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"confirm": true, "reason": "cleanup"}}, nil
				},
			})).Session
			res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "delete_item", Arguments: map[string]any{"id": "a", "secret": "hunter2"}})
			if err != nil {
				t.Fatal(err)
			}
			if res.IsError || it.has("a") {
				t.Fatalf("approved call did not run: %s", mcpkittest.Text(res))
			}
			if asked == nil || !strings.Contains(asked.Message, "alice wants to run delete_item") {
				t.Fatalf("prompt = %+v", asked)
			}
			if strings.Contains(asked.Message, "hunter2") || !strings.Contains(asked.Message, "[REDACTED]") {
				t.Errorf("prompt shows a redacted field: %s", asked.Message)
			}
			r := rec.last(t)
			if r.outcome != mcpkit.OutcomeOK || r.approval == nil || r.approval.Decision != "approved" || r.approval.Approver != "alice" || r.approval.Reason != "cleanup" {
				t.Errorf("record = %+v %+v", r, r.approval)
			}
			if rec.calls[0].approval.Decision != "pending" {
				t.Errorf("first round recorded %+v, want pending", rec.calls[0].approval)
			}
		})
	}
}

func TestElicitRefusals(t *testing.T) {
	cases := []struct {
		name   string
		answer *mcp.ElicitResult
		want   string
	}{
		{"decline", &mcp.ElicitResult{Action: "decline"}, "the user declined"},
		{"cancel", &mcp.ElicitResult{Action: "cancel"}, "the user dismissed the prompt"},
		{"confirm false", &mcp.ElicitResult{Action: "accept", Content: map[string]any{"confirm": false}}, "the user did not confirm"},
		{"confirm false with reason", &mcp.ElicitResult{Action: "accept", Content: map[string]any{"confirm": false, "reason": "wrong incident"}}, "wrong incident"},
	}
	for _, p := range protocols {
		for _, tc := range cases {
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				kr, _ := newKeyring(t)
				srv, it, rec := newServer(t, elicitApprover(t, kr, approval.ElicitConfig{}))
				cs := mcpkittest.NewHarness(t, srv, mcpkittest.WithClientInfo("alice", "1"), mcpkittest.WithProtocolVersion(p.version), answering(tc.answer)).Session
				res, err := callDelete(t, cs, "a")
				if err != nil {
					t.Fatal(err)
				}
				if !res.IsError || !strings.Contains(mcpkittest.Text(res), "delete_item was not run: approval was denied by alice") || !strings.Contains(mcpkittest.Text(res), tc.want) {
					t.Errorf("result = %q", mcpkittest.Text(res))
				}
				if !it.has("a") || it.runs() != 0 {
					t.Fatal("the handler ran on a refused approval")
				}
				r := rec.last(t)
				if r.outcome != mcpkit.OutcomeDeniedApproval || r.approval.Decision != "denied" {
					t.Errorf("record = %+v %+v", r, r.approval)
				}
			})
		}
	}
}

// On the legacy path the SDK validates the answer against the requested
// schema itself and fails the call; the handler never runs either way.
func TestElicitSchemaMismatchLegacy(t *testing.T) {
	kr, _ := newKeyring(t)
	srv, it, _ := newServer(t, elicitApprover(t, kr, approval.ElicitConfig{}))
	cs := mcpkittest.NewHarness(t, srv, mcpkittest.WithClientInfo("alice", "1"), mcpkittest.WithProtocolVersion(legacyVersion), answering(&mcp.ElicitResult{Action: "accept", Content: map[string]any{"confirm": "yes"}})).Session
	res, err := callDelete(t, cs, "a")
	if err == nil && !res.IsError {
		t.Fatalf("a mismatched answer was accepted: %s", mcpkittest.Text(res))
	}
	if !it.has("a") || it.runs() != 0 {
		t.Fatal("the handler ran on a mismatched answer")
	}
}

// rawClient is a client that does its own multi round-trip, so a test can
// send back whatever a hostile client would.
func rawClient(t *testing.T, srv *mcpkit.Server, subject string) *mcp.ClientSession {
	return mcpkittest.NewHarness(t, srv, mcpkittest.WithClientInfo(subject, "1"), mcpkittest.WithClientOptions(&mcp.ClientOptions{
		MultiRoundTrip: &mcp.MultiRoundTripOptions{Disabled: true},
		// Declares the elicitation capability; never called with the
		// automatic round trip disabled.
		ElicitationHandler: func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			t.Error("unexpected elicitation")
			return &mcp.ElicitResult{Action: "decline"}, nil
		},
	})).Session
}

// ask makes the first round and returns the request state.
func ask(t *testing.T, cs *mcp.ClientSession, args map[string]any) string {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "delete_item", Arguments: args})
	if err != nil {
		t.Fatal(err)
	}
	if !res.NeedsInput() || res.InputRequests[approval.InputRequestID] == nil || res.RequestState == "" {
		t.Fatalf("first round did not ask for input: %+v %s", res, mcpkittest.Text(res))
	}
	return res.RequestState
}

func retry(t *testing.T, cs *mcp.ClientSession, args map[string]any, state string, answer *mcp.ElicitResult) *mcp.CallToolResult {
	t.Helper()
	p := &mcp.CallToolParams{Name: "delete_item", Arguments: args, RequestState: state}
	if answer != nil {
		p.InputResponses = mcp.InputResponseMap{approval.InputRequestID: answer}
	}
	res, err := cs.CallTool(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

var yes = &mcp.ElicitResult{Action: "accept", Content: map[string]any{"confirm": true}}

func TestElicitHostileRetries(t *testing.T) {
	argsA := map[string]any{"id": "a"}
	cases := []struct {
		name string
		// play returns the final result; the handler must not have run.
		play func(t *testing.T, srv *mcpkit.Server, kr *approval.Keyring, keys []approval.Key) *mcp.CallToolResult
		want string
		// verdict is the recorded decision.
		verdict string
	}{
		{"schema mismatch", func(t *testing.T, srv *mcpkit.Server, _ *approval.Keyring, _ []approval.Key) *mcp.CallToolResult {
			cs := rawClient(t, srv, "alice")
			st := ask(t, cs, argsA)
			return retry(t, cs, argsA, st, &mcp.ElicitResult{Action: "accept", Content: map[string]any{"confirm": "yes"}})
		}, "does not match the requested schema: confirm must be a boolean", "denied"},
		{"extra field", func(t *testing.T, srv *mcpkit.Server, _ *approval.Keyring, _ []approval.Key) *mcp.CallToolResult {
			cs := rawClient(t, srv, "alice")
			st := ask(t, cs, argsA)
			return retry(t, cs, argsA, st, &mcp.ElicitResult{Action: "accept", Content: map[string]any{"confirm": true, "approved_by": "ceo"}})
		}, `unexpected field "approved_by"`, "denied"},
		{"accept without content", func(t *testing.T, srv *mcpkit.Server, _ *approval.Keyring, _ []approval.Key) *mcp.CallToolResult {
			cs := rawClient(t, srv, "alice")
			st := ask(t, cs, argsA)
			return retry(t, cs, argsA, st, &mcp.ElicitResult{Action: "accept"})
		}, "confirm is required", "denied"},
		{"answer without state", func(t *testing.T, srv *mcpkit.Server, _ *approval.Keyring, _ []approval.Key) *mcp.CallToolResult {
			cs := rawClient(t, srv, "alice")
			return retry(t, cs, argsA, "", yes)
		}, "inputResponses were sent without the requestState", "invalid_state"},
		{"state without answer", func(t *testing.T, srv *mcpkit.Server, _ *approval.Keyring, _ []approval.Key) *mcp.CallToolResult {
			cs := rawClient(t, srv, "alice")
			st := ask(t, cs, argsA)
			return retry(t, cs, argsA, st, nil)
		}, "no answer to the approval prompt", "denied"},
		{"forged state", func(t *testing.T, srv *mcpkit.Server, _ *approval.Keyring, _ []approval.Key) *mcp.CallToolResult {
			cs := rawClient(t, srv, "alice")
			return retry(t, cs, argsA, "a1.k1.eyJwIjoiYWxpY2UifQ.AAAA", yes)
		}, "signature does not verify", "invalid_state"},
		{"tampered payload", func(t *testing.T, srv *mcpkit.Server, _ *approval.Keyring, _ []approval.Key) *mcp.CallToolResult {
			cs := rawClient(t, srv, "alice")
			st := ask(t, cs, map[string]any{"id": "b"})
			// Keep the MAC, swap the payload for one naming item a.
			parts := strings.Split(st, ".")
			payload, _ := base64.RawURLEncoding.DecodeString(parts[2])
			parts[2] = base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), `"p":"alice"`, `"p":"alice" `, 1)))
			return retry(t, cs, argsA, strings.Join(parts, "."), yes)
		}, "signature does not verify", "invalid_state"},
		{"garbage state", func(t *testing.T, srv *mcpkit.Server, _ *approval.Keyring, _ []approval.Key) *mcp.CallToolResult {
			cs := rawClient(t, srv, "alice")
			return retry(t, cs, argsA, strings.Repeat("x", 5000), yes)
		}, "longer than any this server issues", "invalid_state"},
		{"unknown key", func(t *testing.T, srv *mcpkit.Server, _ *approval.Keyring, _ []approval.Key) *mcp.CallToolResult {
			cs := rawClient(t, srv, "alice")
			st := ask(t, cs, argsA)
			return retry(t, cs, argsA, strings.Replace(st, "a1.k1.", "a1.k9.", 1), yes)
		}, "unknown or retired key", "invalid_state"},
		{"replayed after decline", func(t *testing.T, srv *mcpkit.Server, _ *approval.Keyring, _ []approval.Key) *mcp.CallToolResult {
			cs := rawClient(t, srv, "alice")
			st := ask(t, cs, argsA)
			if res := retry(t, cs, argsA, st, &mcp.ElicitResult{Action: "decline"}); !res.IsError {
				t.Fatal("decline was not a denial")
			}
			return retry(t, cs, argsA, st, yes)
		}, "already been used", "invalid_state"},
		{"other principal", func(t *testing.T, srv *mcpkit.Server, _ *approval.Keyring, _ []approval.Key) *mcp.CallToolResult {
			st := ask(t, rawClient(t, srv, "alice"), argsA)
			return retry(t, rawClient(t, srv, "mallory"), argsA, st, yes)
		}, "issued to another principal", "invalid_state"},
		{"other arguments", func(t *testing.T, srv *mcpkit.Server, _ *approval.Keyring, _ []approval.Key) *mcp.CallToolResult {
			cs := rawClient(t, srv, "alice")
			st := ask(t, cs, map[string]any{"id": "b"})
			return retry(t, cs, argsA, st, yes)
		}, "issued for other arguments", "invalid_state"},
		{"other tool", func(t *testing.T, srv *mcpkit.Server, _ *approval.Keyring, _ []approval.Key) *mcp.CallToolResult {
			cs := rawClient(t, srv, "alice")
			res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "refund_order", Arguments: map[string]any{"order": "a", "amount_usd": 900}})
			if err != nil || !res.NeedsInput() {
				t.Fatalf("refund did not ask: %v", err)
			}
			return retry(t, cs, argsA, res.RequestState, yes)
		}, "issued for another tool", "invalid_state"},
		{"state from another server", func(t *testing.T, srv *mcpkit.Server, kr *approval.Keyring, _ []approval.Key) *mcp.CallToolResult {
			// Same keys, another process (a restart): the in-memory
			// replay cache is gone, so the state must be refused.
			other, _, _ := newServer(t, elicitApprover(t, kr, approval.ElicitConfig{}))
			st := ask(t, rawClient(t, other, "alice"), argsA)
			return retry(t, rawClient(t, srv, "alice"), argsA, st, yes)
		}, "issued before the server restarted", "invalid_state"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			kr, keys := newKeyring(t, "k1")
			srv, it, rec := newServer(t, elicitApprover(t, kr, approval.ElicitConfig{}))
			res := tc.play(t, srv, kr, keys)
			if !res.IsError || !strings.Contains(mcpkittest.Text(res), tc.want) {
				t.Errorf("result = %q, want it to say %q", mcpkittest.Text(res), tc.want)
			}
			if !it.has("a") || it.runs() != 0 {
				t.Fatal("the handler ran")
			}
			r := rec.last(t)
			if r.outcome != mcpkit.OutcomeDeniedApproval || r.approval == nil || r.approval.Decision != tc.verdict {
				t.Errorf("record = %+v %+v", r, r.approval)
			}
		})
	}
}

// A valid state is accepted exactly once.
func TestElicitStateSingleUse(t *testing.T) {
	kr, _ := newKeyring(t)
	srv, it, _ := newServer(t, elicitApprover(t, kr, approval.ElicitConfig{}))
	cs := rawClient(t, srv, "alice")
	args := map[string]any{"id": "a"}
	st := ask(t, cs, args)
	if res := retry(t, cs, args, st, yes); res.IsError || it.has("a") {
		t.Fatalf("first use refused: %s", mcpkittest.Text(res))
	}
	it.mu.Lock()
	it.set["a"] = true // recreate it: a replay must not delete it again
	it.mu.Unlock()
	if res := retry(t, cs, args, st, yes); !res.IsError || !strings.Contains(mcpkittest.Text(res), "already been used") {
		t.Fatalf("replay accepted: %s", mcpkittest.Text(res))
	}
	if !it.has("a") || it.runs() != 1 {
		t.Fatal("the replayed call ran")
	}
}

// Rotation: states signed with the old key verify while it is on the
// keyring, and are refused once it is removed.
func TestElicitKeyRotation(t *testing.T) {
	old, oldKeys := newKeyring(t, "k1")
	_, newKeys := newKeyring(t, "k2")
	rotated, err := approval.NewKeyring(oldKeys[0], newKeys[0])
	if err != nil {
		t.Fatal(err)
	}
	retired, _ := approval.NewKeyring(newKeys[0])
	replay := approval.NewMemoryReplayCache(0) // shared: the "fleet" cache
	issuer, _, _ := newServer(t, elicitApprover(t, old, approval.ElicitConfig{Replay: replay}))
	args := map[string]any{"id": "a"}

	st := ask(t, rawClient(t, issuer, "alice"), args)
	srv, it, _ := newServer(t, elicitApprover(t, rotated, approval.ElicitConfig{Replay: replay}))
	cs := rawClient(t, srv, "alice")
	if res := retry(t, cs, args, st, yes); res.IsError || it.has("a") {
		t.Fatalf("state under a rotated-out-but-kept key refused: %s", mcpkittest.Text(res))
	}
	if st2 := ask(t, cs, map[string]any{"id": "b"}); !strings.HasPrefix(st2, "a1.k2.") {
		t.Errorf("new states must be signed with the newest key: %s", st2[:8])
	}

	st = ask(t, rawClient(t, issuer, "alice"), map[string]any{"id": "b"})
	srv2, it2, _ := newServer(t, elicitApprover(t, retired, approval.ElicitConfig{Replay: replay}))
	if res := retry(t, rawClient(t, srv2, "alice"), map[string]any{"id": "b"}, st, yes); !res.IsError || !strings.Contains(mcpkittest.Text(res), "retired key") {
		t.Fatalf("state under a retired key accepted: %s", mcpkittest.Text(res))
	}
	if !it2.has("b") {
		t.Fatal("the handler ran")
	}
}

func TestElicitExpiredState(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kr, _ := newKeyring(t)
		srv, it, rec := newServer(t, elicitApprover(t, kr, approval.ElicitConfig{TTL: time.Minute}))
		cs := rawClient(t, srv, "alice")
		args := map[string]any{"id": "a"}
		st := ask(t, cs, args)
		time.Sleep(61 * time.Second) // fake time inside the bubble
		res := retry(t, cs, args, st, yes)
		if !res.IsError || !strings.Contains(mcpkittest.Text(res), "requestState has expired") {
			t.Fatalf("expired state accepted: %s", mcpkittest.Text(res))
		}
		if !it.has("a") || rec.last(t).approval.Decision != "invalid_state" {
			t.Fatal("the handler ran or the decision was not recorded")
		}
		_ = cs.Close()
	})
}

func TestElicitClientCannotElicit(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			kr, _ := newKeyring(t)
			srv, it, rec := newServer(t, elicitApprover(t, kr, approval.ElicitConfig{Hint: "Ask on-call to approve it at https://approvals.example.com."}))
			cs := mcpkittest.NewHarness(t, srv, mcpkittest.WithClientInfo("alice", "1"), mcpkittest.WithProtocolVersion(p.version)).Session
			res, err := callDelete(t, cs, "a")
			if err != nil {
				t.Fatal(err)
			}
			want := "delete_item was not run: it needs a human's approval and none could be asked (the client does not support elicitation, so it cannot ask its user to approve). Ask on-call to approve it at https://approvals.example.com."
			if !res.IsError || mcpkittest.Text(res) != want {
				t.Errorf("result = %q", mcpkittest.Text(res))
			}
			if !it.has("a") || rec.last(t).approval.Decision != "unavailable" {
				t.Fatal("the handler ran or the decision was not recorded")
			}
		})
	}
}
