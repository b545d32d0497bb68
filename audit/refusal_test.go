package audit_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkit"
)

func TestRefusedRecordsTransportRefusals(t *testing.T) {
	var got []audit.Record
	sink := audit.SinkFunc(func(_ context.Context, r *audit.Record) error {
		got = append(got, *r)
		return nil
	})
	a := must(audit.New(sink))
	srv := &mcp.Implementation{Name: "incidents", Version: "1.0.0"}
	bob := mcpkit.Identity{Subject: "bob", AuthMethod: "static"}
	token := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJtYWxsb3J5In0.c2lnbmF0dXJl"
	cases := []struct {
		rf      audit.Refusal
		outcome string
		subject string
	}{
		{audit.Refusal{Server: srv, Status: http.StatusUnauthorized, Reason: "token rejected: " + token}, "unauthenticated", ""},
		{audit.Refusal{Server: srv, Status: http.StatusForbidden, Reason: "insufficient scope", Tool: "delete_incident", Identity: &bob, Scope: true}, "denied_scope", "bob"},
		{audit.Refusal{Server: srv, Status: http.StatusForbidden, Reason: "origin not allowed: https://evil.example"}, "rejected", ""},
		{audit.Refusal{Server: srv, Status: http.StatusRequestEntityTooLarge, Reason: "body too large"}, "rejected", ""},
		{audit.Refusal{Server: srv, Status: http.StatusServiceUnavailable, Reason: "jwks down"}, "unavailable", ""},
	}
	for _, c := range cases {
		require.NoError(t, a.Refused(context.Background(), c.rf))
	}
	require.Len(t, got, len(cases))
	for i, c := range cases {
		assert.Equal(t, c.outcome, got[i].Outcome)
		assert.Equal(t, c.subject, got[i].Principal.Subject)
		assert.Equal(t, "incidents", got[i].Server.Name)
		assert.NotEmpty(t, got[i].ID)
		assert.Contains(t, got[i].Error, "HTTP ")
		b, _ := json.Marshal(got[i])
		assert.False(t, strings.Contains(string(b), token), "the token never reaches the record")
	}
	assert.Equal(t, "delete_incident", got[1].Tool)
}
