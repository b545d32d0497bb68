package audit_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

type patternIn struct {
	ID string `json:"id" jsonschema:"description=Thing id such as THG-1001,pattern=^THG-[0-9]{4}$"`
}

// TestValidationErrorEchoLeaksNoSecret plays the red team's attack: a
// value failing its pattern check is a credential (quoted, or long enough
// that the error message cuts it). The error the record, the file and the
// OpenTelemetry log export keep must hold none of it: not the value of a
// quoted assignment, not the part of a secret key or password hash before
// a cut.
func TestValidationErrorEchoLeaksNoSecret(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	file, err := openFile(path)
	require.NoError(t, err)
	capture := &logCapture{}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(capture)))
	mem := &memSink{}
	sink := audit.Fanout(file, must(audit.NewAsync(audit.OTelLogSink(lp))), mem)
	f := newFixture(t, sink)
	ran := false
	require.NoError(t, mcpkit.AddTool(f.srv, mcpkit.Tool{Name: "get_by_id", Description: "Get a thing by id.",
		Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Public: true}},
		func(context.Context, patternIn) (thingOut, error) { ran = true; return thingOut{}, nil }))
	cs := mcpkittest.NewHarness(t, f.srv).Session

	attacks := map[string]string{ // value -> the part that must not be kept
		`password="LongQuotedPasswordValue1234567890"`:                   "LongQuotedPasswordValue",
		`api_key: "ApiKeyQuotedValue0987654321zz"`:                       "ApiKeyQuotedValue",
		`AWS_SECRET_ACCESS_KEY="AwsSecretNotFortyChars123"`:              "AwsSecretNotFortyChars",
		`token='SingleQuotedTokenValue556677889900'`:                     "SingleQuotedTokenValue",
		"AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY":  "wJalrXUtnFEMI",
		"$2y$10$abcdefghijklmnopqrstuuJz0mEo3Zq0bFQnqHpyPpL/3dBwsd2dm":   "abcdefghijklmnopq",
		"x $apr1$saltsalt$abcdefghijklmnopqrstuv and more text after it": "saltsalt",
	}
	for value := range attacks {
		res, err := callTool(t, cs, "get_by_id", map[string]any{"id": value})
		require.NoError(t, err)
		require.True(t, res.IsError, "the pattern check refused %q", value)
	}
	assert.False(t, ran, "the handler never ran")

	require.NoError(t, audit.Close(context.Background(), sink))
	require.NoError(t, lp.Shutdown(context.Background()))
	fileBytes, err := os.ReadFile(path)
	require.NoError(t, err)
	recs := mem.finals()
	require.Len(t, recs, len(attacks))
	for _, r := range recs {
		assert.Equal(t, "invalid_input", r.Outcome)
		assert.Contains(t, r.Error, "must match the pattern", "the refusal is recorded with its reason")
		assert.Equal(t, 1, strings.Count(r.Error, "(got "), "the value is shown once: %s", r.Error)
	}
	for name, got := range map[string]string{"jsonl": string(fileBytes), "otel": capture.String(), "records": asJSON(t, recs)} {
		for value, secret := range attacks {
			assert.NotContains(t, got, secret, "sink %s keeps part of %q", name, value)
		}
	}
}
