package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// planted are credentials of every shape the redactor knows, keyed by the
// part that must never reach a sink.
var planted = map[string]string{
	"jwt":          "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlc2VjcmV0",
	"bearer":       "Bearer zZbearerSecretValue123",
	"github":       "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
	"github_pat":   "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
	"aws":          "AKIAIOSFODNN7EXAMPLE",
	"slack":        "xoxb-1234567890-abcdefghijKLMN",
	"pem":          "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAzzPemSecretMaterial\n-----END RSA PRIVATE KEY-----",
	"url_password": "postgres://admin:hunter2urlpass@db.internal:5432/prod",
}

// secretParts are the substrings that must not appear anywhere.
var secretParts = []string{
	"c2lnbmF0dXJlc2VjcmV0", "zZbearerSecretValue123", "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
	"github_pat_11ABCDEFG", "AKIAIOSFODNN7EXAMPLE", "xoxb-1234567890", "zzPemSecretMaterial",
	"hunter2urlpass", "plainPassword-77", "policyRedacted-88", "taggedRedacted-99",
}

// logCapture is an OpenTelemetry log exporter that keeps every exported
// record's attributes as text: the bytes an OTLP exporter would send.
type logCapture struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (c *logCapture) Export(_ context.Context, recs []sdklog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range recs {
		c.buf.WriteString(r.Body().String())
		r.WalkAttributes(func(kv attributeKV) bool {
			c.buf.WriteString(string(kv.Key) + "=" + kv.Value.String() + "\n")
			return true
		})
	}
	return nil
}
func (c *logCapture) Shutdown(context.Context) error   { return nil }
func (c *logCapture) ForceFlush(context.Context) error { return nil }
func (c *logCapture) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

func TestPlantedSecretsReachNoSink(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	file, err := openFile(path)
	require.NoError(t, err)
	var slogBuf syncBuffer
	capture := &logCapture{}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(capture)))
	var failLog syncBuffer
	mem := &memSink{}
	sink := audit.Fanout(file, audit.SlogSink(newJSONLogger(&slogBuf)), must(audit.NewAsync(audit.OTelLogSink(lp))), mem)
	f := newFixture(t, sink, audit.WithLogger(newJSONLogger(&failLog)))
	cs := mcpkittest.NewHarness(t, f.srv).Session

	var all []string
	for _, v := range planted {
		all = append(all, v)
	}
	joined := strings.Join(all, " and ")
	args := map[string]any{
		"name": "x", "text": joined, "password": "plainPassword-77",
		"note": "policyRedacted-88", "tagged": "taggedRedacted-99",
	}
	for _, tool := range []string{"get_thing", "update_thing", "delete_thing"} {
		_, err := callTool(t, cs, tool, args)
		require.NoError(t, err)
	}
	// In error causes, panics and unknown-tool arguments too.
	_, _ = callTool(t, cs, "get_thing", map[string]any{"name": "x", "fail": "connect failed: " + joined})
	_, _ = callTool(t, cs, "update_thing", map[string]any{"name": "x", "panic": true, "text": joined})
	// An unknown tool has no policy: only keys and shapes are masked.
	_, _ = callTool(t, cs, "get_nothing", map[string]any{"text": joined, "password": "plainPassword-77"})
	// Invalid input keeps the raw arguments, redacted.
	_, _ = callTool(t, cs, "get_thing", map[string]any{"name": 5, "text": joined, "password": "plainPassword-77"})

	require.NoError(t, audit.Close(context.Background(), sink))
	require.NoError(t, lp.Shutdown(context.Background()))
	fileBytes, err := os.ReadFile(path)
	require.NoError(t, err)

	sinks := map[string]string{
		"jsonl": string(fileBytes), "slog": slogBuf.String(), "otel": capture.String(),
		"unwritten log": failLog.String(), "memory": asJSON(t, mem.all()),
	}
	for name, got := range sinks {
		for _, s := range secretParts {
			assert.False(t, strings.Contains(got, s), "sink %s leaks %q", name, s)
		}
	}
	// The records are there, masked rather than dropped.
	for _, want := range []string{"[REDACTED:jwt]", "[REDACTED:bearer]", "[REDACTED:github_token]", "[REDACTED:aws_access_key_id]",
		"[REDACTED:slack_token]", "[REDACTED:private_key]", "postgres://[REDACTED:url_password]@db.internal", `"password":"[REDACTED]"`,
		`"note":"[REDACTED]"`, `"tagged":"[REDACTED]"`, `"hidden":"[REDACTED]"`} {
		assert.Contains(t, string(fileBytes), want)
	}
	assert.Contains(t, capture.String(), "tool=update_thing")
	_, err = audit.Verify(testKeys, path)
	require.NoError(t, err)
}

func TestRedactorIsDeterministicAndTruncates(t *testing.T) {
	r := must(audit.NewRedactor(audit.WithMaxString(64), audit.WithMaxPayload(512)))
	long := strings.Repeat("a", 100) + " AKIAIOSFODNN7EXAMPLE"
	in := []byte(`{"b":{"api_key":"k","items":[{"token":"t1","v":"` + long + `"}]},"a":1}`)
	out1 := r.JSON(in, nil)
	out2 := r.JSON(in, nil)
	assert.Equal(t, string(out1), string(out2))
	assert.Contains(t, string(out1), `"api_key":"[REDACTED]"`)
	assert.Contains(t, string(out1), `"token":"[REDACTED]"`)
	assert.Contains(t, string(out1), "[truncated: 129 bytes, sha256 ")
	assert.NotContains(t, string(out1), "AKIA")
	// One pass over the bytes: the document's own key order is kept.
	assert.True(t, strings.HasPrefix(string(out1), `{"b":{"api_key":`), "key order kept: %s", out1)
	assert.True(t, strings.HasSuffix(string(out1), `,"a":1}`), "key order kept: %s", out1)

	big := []byte(`{"x":"` + strings.Repeat("b", 40) + `","y":[` + strings.Repeat(`"cccccccccc",`, 60) + `"d"]}`)
	out := r.JSON(big, nil)
	assert.Regexp(t, `^\{"length":\d+,"sha256":"[0-9a-f]{64}","truncated":true\}$|^\{"truncated":true,"length":\d+,"sha256":"[0-9a-f]{64}"\}$`, string(out))

	paths := must(audit.NewRedactor()).JSON([]byte(`{"account":{"user":"u","pin":"1234"},"list":[{"pin":"5"}]}`), []string{"account.pin", "list.pin"})
	assert.JSONEq(t, `{"account":{"user":"u","pin":"[REDACTED]"},"list":[{"pin":"[REDACTED]"}]}`, string(paths))
	assert.Equal(t, `"not json: password=[REDACTED:secret_assignment]"`, string(must(audit.NewRedactor()).JSON([]byte("not json: password=abc"), nil)))
}

func TestRedactorMasksCredentialsInKeys(t *testing.T) {
	r := must(audit.NewRedactor())
	token := "ghp_" + strings.Repeat("a1B2", 9)
	out := string(r.JSON([]byte(`{"`+token+`":1,"ok":"fine","nested":{"`+token+`":2}}`), nil))
	assert.NotContains(t, out, token)
	assert.Contains(t, out, `"ok":"fine"`)
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &m))
	assert.Len(t, m, 3, "keys stay distinct")
}

// TestCredentialInUnknownToolNameIsMasked: a tool name the server does not
// have is the client's string; a token glued to it with '_' (no word
// boundary) is masked in the record's tool and error fields, and a value
// under a key naming an AWS secret in its arguments too.
func TestCredentialInUnknownToolNameIsMasked(t *testing.T) {
	mem := &memSink{}
	f := newFixture(t, mem)
	cs := mcpkittest.NewHarness(t, f.srv).Session
	const token = "ghp_CxIb0HgvEPwnATEdAZwJ0FU1MHCH0tiFAfGB"
	_, _ = callTool(t, cs, "get_"+token, map[string]any{"note": `{"credentials":{"pw":"ObjPass12345"}}`})
	recs := mem.finals()
	require.Len(t, recs, 1)
	rec := recs[0]
	assert.Equal(t, "unknown_tool", rec.Outcome)
	assert.NotContains(t, rec.Tool, "CxIb0HgvEPwnATEdAZwJ0FU1MHCH0tiFAfGB")
	assert.Contains(t, rec.Tool, "get_[REDACTED:github_token]")
	assert.NotContains(t, rec.Error, "CxIb0HgvEPwnATEdAZwJ0FU1MHCH0tiFAfGB")
	all := asJSON(t, mem.all())
	assert.NotContains(t, all, "CxIb0HgvEPwnATEdAZwJ0FU1MHCH0tiFAfGB")
	assert.NotContains(t, all, "ObjPass12345")
	require.NoError(t, audit.Close(context.Background(), mem))
}
