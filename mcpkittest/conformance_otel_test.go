package mcpkittest

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/mcpkit-go/mcpkit/audit"
)

// logRecorder is an OpenTelemetry log exporter that keeps each record's
// attributes, behind a synchronous processor.
type logRecorder struct {
	mu    sync.Mutex
	attrs []map[string]string
}

func (e *logRecorder) Export(_ context.Context, recs []sdklog.Record) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, r := range recs {
		m := map[string]string{}
		r.WalkAttributes(func(kv attribute.KeyValue) bool {
			m[string(kv.Key)] = kv.Value.String()
			return true
		})
		e.attrs = append(e.attrs, m)
	}
	return nil
}

func (e *logRecorder) Shutdown(context.Context) error   { return nil }
func (e *logRecorder) ForceFlush(context.Context) error { return nil }

func (e *logRecorder) provider(t testing.TB) log.LoggerProvider {
	p := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(e)))
	t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	return p
}

func (e *logRecorder) all() []map[string]string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]map[string]string(nil), e.attrs...)
}

func TestOTelWitnessConforms(t *testing.T) {
	TestWitness(t, func(t testing.TB) WitnessUnderTest {
		rec := &logRecorder{}
		return WitnessUnderTest{Witness: audit.OTelWitness(rec.provider(t)), Checkpoints: func() ([]audit.Checkpoint, error) {
			var out []audit.Checkpoint
			for _, a := range rec.all() {
				// The export format auditverify -witness reads: JSON
				// lines with the attributes as fields.
				b, _ := json.Marshal(map[string]any{"log": a["log"], "instance": a["instance"], "seq": json.Number(a["seq"]),
					"hash": a["hash"], "time": a["time"], "reason": a["reason"], "kid": a["kid"], "mac": a["mac"]})
				var c audit.Checkpoint
				if err := json.Unmarshal(b, &c); err != nil {
					return nil, err
				}
				out = append(out, c)
			}
			return out, nil
		}}
	})
}

func TestOTelLogSinkConforms(t *testing.T) {
	TestSink(t, func(t testing.TB) SinkUnderTest {
		rec := &logRecorder{}
		return SinkUnderTest{Sink: audit.OTelLogSink(rec.provider(t)), Records: func() ([]audit.Record, error) {
			var out []audit.Record
			for _, a := range rec.all() {
				out = append(out, audit.Record{ID: a["id"], Tool: a["tool"], Outcome: a["outcome"],
					Principal: audit.Principal{Subject: a["principal.subject"]}, Arguments: json.RawMessage(a["arguments"])})
			}
			return out, nil
		}}
	})
}
