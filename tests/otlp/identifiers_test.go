package otlp_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/transport"
)

// TestClientChosenIdentifiersAreRedactedOverOTLP plays the red team's
// attack over stdio: the client picks a JSON-RPC id, a protocol version and
// a client name that are credentials. The audit record masks them; the
// spans, metric points and log records exported over OTLP/HTTP must not
// carry them either.
func TestClientChosenIdentifiersAreRedactedOverOTLP(t *testing.T) {
	col := &collector{}
	colSrv := httptest.NewServer(col)
	defer colSrv.Close()
	prov := newOTLPProviders(t, colSrv.URL)

	sink := &memSink{}
	f := newFixture(t, audit.Fanout(sink, audit.OTelLogSink(prov.lp)), audit.WithTracerProvider(prov.tp), audit.WithMeterProvider(prov.mp))
	f.auditor.Instrument(f.srv.MCPServer())

	const (
		idToken      = "ghp_RequestIdToken0123456789abcdefABCDEF"
		versionToken = "ghp_ProtoVersionTok0123456789abcdefABCDE"
		clientToken  = "ghp_ClientNameToken0123456789abcdefABCDE"
	)
	in := strings.Join([]string{
		fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":%q,"capabilities":{},"clientInfo":{"name":%q,"version":"1"}}}`, versionToken, clientToken),
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		fmt.Sprintf(`{"jsonrpc":"2.0","id":%q,"method":"tools/call","params":{"name":"get_thing","arguments":{"name":"a"}}}`, idToken),
		fmt.Sprintf(`{"jsonrpc":"2.0","id":"%s-2","method":"ping"}`, idToken),
	}, "\n") + "\n"
	var out bytes.Buffer
	require.NoError(t, transport.ServeStdio(context.Background(), f.srv, transport.WithStdio(strings.NewReader(in), &out),
		transport.WithLocalScopes("things:read")))
	require.Contains(t, out.String(), idToken, "the client got its own id back: the call was answered")
	prov.flush(t)

	recs := sink.all()
	require.NotEmpty(t, recs)
	rec := recs[len(recs)-1]
	assert.Equal(t, "ok", rec.Outcome)
	assert.Equal(t, "[REDACTED:github_token]", rec.RequestID, "the record masks the id")

	col.mu.Lock()
	defer col.mu.Unlock()
	require.NotEmpty(t, col.spans)
	require.NotEmpty(t, col.points)
	require.NotEmpty(t, col.logs)
	exported := fmt.Sprint(col.spans, col.points, col.logs)
	for _, tok := range []string{"RequestIdToken", "ProtoVersionTok", "ClientNameToken"} {
		assert.NotContains(t, exported, tok, "a client-chosen credential reached the OTLP export")
	}
	var sawID bool
	for _, s := range col.spans {
		if s.name == "tools/call get_thing" {
			sawID = true
			assert.Equal(t, "[REDACTED:github_token]", s.attrs["jsonrpc.request.id"], "the span keeps the id, masked")
		}
	}
	assert.True(t, sawID, "the tools/call span was exported")
	for _, p := range col.points {
		if v, ok := p.attrs["mcp.protocol.version"]; ok {
			assert.Regexp(t, `^\d{4}-\d{2}-\d{2}$`, v, "only a version-shaped value is a metric dimension")
		}
	}
}
