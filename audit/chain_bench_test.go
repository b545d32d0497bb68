package audit

import (
	"bytes"
	"encoding/json"
	"testing"
)

// BenchmarkSeal measures sealing one typical record (about 600 bytes):
// HMAC-SHA-256 under a key against the unkeyed SHA-256 chain.
func BenchmarkSeal(b *testing.B) {
	keys, err := NewKeyring(Key{ID: "k1", Secret: bytes.Repeat([]byte("k"), 32)})
	if err != nil {
		b.Fatal(err)
	}
	body, _ := json.Marshal(&Record{ID: "0123456789abcdef0123456789abcdef", Tool: "update_thing", Risk: "write", Outcome: "ok",
		Principal: Principal{Subject: "alice", Email: "alice@example.com", Groups: []string{"sre"}, Client: "claude-code/2.1", Auth: "jwt"},
		Arguments: json.RawMessage(`{"id":"INC-1001","resolution":"rotated the key and redeployed the service"}`),
		Result:    json.RawMessage(`{"id":"INC-1001","status":"resolved","updated_at":"2026-11-25T12:00:00Z"}`),
		TraceID:   "4bf92f3577b34da6a3ce929d0e0e4736", SpanID: "00f067aa0ba902b7"})
	for _, tc := range []struct {
		name string
		s    *sealer
	}{{"sha256", newSealer(nil)}, {"hmac_sha256", newSealer(keys)}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			var buf []byte
			prev := GenesisHash
			for b.Loop() {
				buf, prev, _ = tc.s.seal(buf[:0], body, 7, prev)
			}
		})
	}
}
