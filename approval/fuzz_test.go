package approval

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// fuzzKeyring signs with "k2" and still verifies "k1", as during a
// rotation. The secrets are fixed so that the genuine state, and the seeds
// derived from it, are the same on every run.
func fuzzKeyring(tb testing.TB) *Keyring {
	kr, err := NewKeyring(
		Key{ID: "k1", Secret: bytes.Repeat([]byte{0x11}, MinKeySize)},
		Key{ID: "k2", Secret: bytes.Repeat([]byte{0x22}, MinKeySize)},
	)
	if err != nil {
		tb.Fatal(err)
	}
	return kr
}

// fuzzCall is the call the genuine state approves.
const (
	fuzzTool      = "delete_db"
	fuzzPrincipal = "alice"
	fuzzArguments = `{"db":"prod","force":true}`
)

// acceptAnswer is the client's yes to the approval prompt.
func acceptAnswer() mcp.InputResponseMap {
	return mcp.InputResponseMap{InputRequestID: &mcp.ElicitResult{Action: "accept", Content: map[string]any{"confirm": true}}}
}

// genuineState signs the claims the fuzz target's elicitor checks: it is
// what a server with these keys issues for fuzzArguments (an in-process
// replay cache shared with the elicitor would bind it to the process; an
// explicit cache leaves Instance empty). It expires in 2100.
func genuineState(tb testing.TB, kr *Keyring) (state, digest string) {
	_, canonical, err := canonicalArguments(json.RawMessage(fuzzArguments))
	if err != nil {
		tb.Fatal(err)
	}
	digest = argumentsDigest(canonical)
	state, err = kr.signClaims(claims{
		Principal: fuzzPrincipal, Tool: fuzzTool, Args: digest,
		Nonce: "00112233445566778899aabbccddeeff", Issued: 4_000_000_000_000, Expires: 4_102_444_800_000,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return state, digest
}

// approvalRequest is what the gate hands the approver for a retry carrying
// state and responses.
func approvalRequest(tool, principal, digest, state string, responses mcp.InputResponseMap) *Request {
	return &Request{
		Tool: tool, Principal: mcpkit.Identity{Subject: principal}, digest: digest,
		Call: &mcpkit.Call{Request: &mcp.CallToolRequest{Params: &mcp.CallToolParamsRaw{
			Name: tool, Arguments: json.RawMessage(fuzzArguments), RequestState: state, InputResponses: responses,
		}}},
	}
}

// answerApproves says, independently of readAnswer, whether responses are
// an explicit yes under the prompt's schema: action accept, content with
// confirm exactly true, an optional string reason of at most 500
// characters, and nothing else.
func answerApproves(responses mcp.InputResponseMap) bool {
	er, ok := responses[InputRequestID].(*mcp.ElicitResult)
	if !ok || er == nil || er.Action != "accept" || er.Content["confirm"] != true {
		return false
	}
	for k, v := range er.Content {
		switch k {
		case "confirm":
		case "reason":
			if s, ok := v.(string); v != nil && (!ok || utf8.RuneCountInString(s) > maxReasonLen) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// stateSeeds are alterations of the genuine state that must all be
// refused: a changed character in each part, the other key's id, another
// call's claims under the genuine signature, truncation, extra parts.
func stateSeeds(genuine string) []string {
	parts := strings.Split(genuine, ".")
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	join := func(p ...string) string { return strings.Join(p, ".") }
	otherPayload := strings.Replace(parts[2], parts[2][:8], flip(parts[2][:8], 3), 1)
	return []string{
		"", "a1", "a1...", genuine + ".", "." + genuine, genuine[:len(genuine)-1], genuine[:len(genuine)-3],
		join("a2", parts[1], parts[2], parts[3]),
		join(parts[0], "k1", parts[2], parts[3]),
		join(parts[0], "k3", parts[2], parts[3]),
		join(parts[0], parts[1], otherPayload, parts[3]),
		join(parts[0], parts[1], parts[2], flip(parts[3], 0)),
		join(parts[0], parts[1], parts[2], flip(parts[3], 20)),
		join(parts[0], parts[1], parts[2], parts[3]+"AAAA"),
		join(parts[0], parts[1], parts[2], strings.ToUpper(parts[3])),
		join(parts[0], parts[1], parts[2]+"=", parts[3]),
		genuine + strings.Repeat("A", maxStateLen),
	}
}

// FuzzRequestState feeds arbitrary requestState strings and inputResponses
// to the in-client approver, as a client retrying a call would send them.
// Whatever the input, it must not panic, and a state other than the one
// the server signed is refused as invalid, whatever the answer says; so is
// the signed state with any one byte changed or inserted. The
// genuine state approves only with an explicit yes, and only once: a
// refused forgery does not use it up, and a second use is refused.
func FuzzRequestState(f *testing.F) {
	kr := fuzzKeyring(f)
	genuine, digest := genuineState(f, kr)
	answers := []string{
		`{"mcpkit.approval":{"action":"accept","content":{"confirm":true}}}`,
		`{"mcpkit.approval":{"action":"accept","content":{"confirm":true,"reason":"ok"}}}`,
		`{"mcpkit.approval":{"action":"accept","content":{"confirm":"true"}}}`,
		`{"mcpkit.approval":{"action":"accept","content":{"confirm":true,"approver":"root"}}}`,
		`{"mcpkit.approval":{"action":"decline"}}`,
		`{"mcpkit.approval":{"action":"ACCEPT","content":{"confirm":true}}}`,
		`{"other":{"action":"accept","content":{"confirm":true}}}`,
		`{"mcpkit.approval":{"roots":[]}}`, `{}`, ``,
	}
	for i, s := range stateSeeds(genuine) {
		f.Add(s, []byte(answers[i%len(answers)]), uint16(i*17), byte('A'+i))
	}
	f.Add(genuine, []byte(answers[0]), uint16(0), byte('a'))
	f.Add(genuine, []byte(answers[2]), uint16(len(genuine)/2), byte('.'))
	f.Add(genuine, []byte(answers[4]), uint16(len(genuine)-2), byte('-'))

	ctx := context.Background()
	f.Fuzz(func(t *testing.T, state string, rawResponses []byte, pos uint16, c byte) {
		var responses mcp.InputResponseMap
		if json.Unmarshal(rawResponses, &responses) != nil {
			responses = nil
		}
		// An explicit replay cache: states are not bound to the process,
		// so the genuine state signed above is the one this approver
		// accepts.
		a, err := Elicit(ElicitConfig{Keys: kr, Replay: NewMemoryReplayCache(0)})
		if err != nil {
			t.Fatal(err)
		}
		approve := func(tool, principal, state string, responses mcp.InputResponseMap) Decision {
			d, err := a.Approve(ctx, approvalRequest(tool, principal, digest, state, responses))
			if err != nil {
				t.Fatalf("approver error for state %q: %v", state, err)
			}
			return d
		}

		d := approve(fuzzTool, fuzzPrincipal, state, responses)
		switch {
		case state == genuine:
			want := VerdictDenied
			if answerApproves(responses) {
				want = VerdictApproved
			}
			if d.Verdict != want {
				t.Fatalf("genuine state with answer %s: verdict %s (%s), want %s", rawResponses, d.Verdict, d.Reason, want)
			}
		case state == "" && len(responses) == 0:
			// A first call: the approver asks, and this client cannot
			// elicit.
			if d.Verdict != VerdictUnavailable {
				t.Fatalf("first call: verdict %s (%s), want %s", d.Verdict, d.Reason, VerdictUnavailable)
			}
		default:
			if d.Verdict != VerdictInvalidState {
				t.Fatalf("state %q is not the genuine state %q but got verdict %s (%s) with answer %s",
					state, genuine, d.Verdict, d.Reason, rawResponses)
			}
			if d.Reason == "" || d.Approver != "system" {
				t.Fatalf("refusal of %q does not say why: %+v", state, d)
			}
		}

		// The genuine state with one byte changed or inserted at a
		// fuzzer-chosen place is another state, and refused.
		i := int(pos) % len(genuine)
		for _, altered := range []string{genuine[:i] + string(c) + genuine[i+1:], genuine[:i] + string(c) + genuine[i:]} {
			if altered == genuine {
				continue
			}
			if d := approve(fuzzTool, fuzzPrincipal, altered, acceptAnswer()); d.Verdict != VerdictInvalidState {
				t.Fatalf("the genuine state altered at byte %d to %q is accepted: %s (%s)", i, altered, d.Verdict, d.Reason)
			}
		}

		// The genuine state is bound to its call ...
		if d := approve("drop_table", fuzzPrincipal, genuine, acceptAnswer()); d.Verdict != VerdictInvalidState {
			t.Fatalf("genuine state accepted for another tool: %s", d.Verdict)
		}
		if d := approve(fuzzTool, "mallory", genuine, acceptAnswer()); d.Verdict != VerdictInvalidState {
			t.Fatalf("genuine state accepted for another principal: %s", d.Verdict)
		}
		// ... usable once unless the fuzzed call already used it, and
		// never again.
		second := approve(fuzzTool, fuzzPrincipal, genuine, acceptAnswer())
		if state == genuine {
			if second.Verdict != VerdictInvalidState {
				t.Fatalf("genuine state accepted a second time: %s", second.Verdict)
			}
		} else if second.Verdict != VerdictApproved {
			t.Fatalf("after refusing %q the genuine state no longer approves: %s (%s)", state, second.Verdict, second.Reason)
		}
		if d := approve(fuzzTool, fuzzPrincipal, genuine, acceptAnswer()); d.Verdict != VerdictInvalidState {
			t.Fatalf("genuine state accepted again after use: %s", d.Verdict)
		}
	})
}
