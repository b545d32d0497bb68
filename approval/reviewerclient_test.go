package approval_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// tokTokenClient signs in a reviewer whose client name, as their
// authenticator reports it, is a credential: a tool that put its API token
// where its name belongs.
const tokTokenClient = "tok-token-client"

func init() {
	tokens[tokTokenClient] = mcpkit.Identity{Subject: "dave", ClientName: ghToken, ClientVersion: "2", Scopes: []string{approverScope}}
}

// The reviewer's client name went on the console's audit records as it
// came, where a caller's is masked (and cut when long) like every other
// client-supplied identifier. A reviewer whose client name is a token now
// leaves it on no record, refused or deciding, while the caller's record of
// the same call is masked as before.
func TestReviewerClientNameIsRedactedOnTheRecord(t *testing.T) {
	rig, log := auditedRig(t, approval.ConsoleConfig{})
	cs := mcpkittest.NewHarness(t, rig.srv, mcpkittest.WithClientInfo("alice", "1")).Session
	done := start(context.Background(), cs, "a")
	p := <-rig.pending
	if code, _ := rig.do(t, "POST", "/api/pending/not-a-request/approve", tokTokenClient, "application/json", `{}`); code != 404 {
		t.Fatalf("approval of an unknown request = %d, want 404", code)
	}
	if code, _ := rig.do(t, "POST", "/api/pending/"+p.ID+"/approve", tokTokenClient, "application/json", `{"reason":"ok"}`); code != 200 {
		t.Fatalf("approve = %d", code)
	}
	if r := <-done; r.err != nil || r.res.IsError {
		t.Fatalf("call = %v %s", r.err, mcpkittest.Text(r.res))
	}
	recs := log.records()
	if len(recs) != 2 {
		t.Fatalf("got %d records, want 2 (not waiting, approved): %+v", len(recs), recs)
	}
	for i, r := range recs {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), ghToken) || strings.Contains(string(b), ghToken[4:20]) {
			t.Errorf("record %d (%s) carries the reviewer's token-shaped client name in clear: %s", i, r.Outcome, b)
		}
		if r.Principal.Subject != "dave" || r.Principal.Client == "" || !strings.HasSuffix(r.Principal.Client, "/2") {
			t.Errorf("record %d principal = %+v, want dave with a masked client name and its version", i, r.Principal)
		}
	}
	if recs[1].Outcome != audit.OutcomeReviewApproved || recs[1].Approval == nil || recs[1].Approval.Approver != "dave" {
		t.Errorf("decision record = %s %+v", recs[1].Outcome, recs[1].Approval)
	}
}
