package transport

import (
	"encoding/json"
	"testing"
)

// mayBeBatch only skips bodies that cannot decode into a slice: whatever
// it rules out, the SDK's decoding rejects as a batch too.
func FuzzMayBeBatch(f *testing.F) {
	for _, s := range []string{``, ` `, `[]`, ` [{"jsonrpc":"2.0"}]`, `null`, "\t\r\nnull", `{"a":1}`, `"x"`, `1`, `nul`, "\ufeff[]", `[`, `true`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var raw []json.RawMessage
		if !mayBeBatch(body) && sdkUnmarshal(body, &raw) == nil {
			t.Fatalf("%q decodes as a batch but was ruled out", body)
		}
	})
}

// BenchmarkPrecheckBody is the transport's own decoding of a 2026-07-28
// tools/call body before the SDK sees it: the message, the call's params,
// the re-encoded body and the _meta protocol version.
func BenchmarkPrecheckBody(b *testing.B) {
	body := []byte(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"list_incidents","arguments":{"service":"billing","limit":20,"status":"open"},` +
		`"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"bench","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}}}`)
	b.ReportAllocs()
	for b.Loop() {
		in, err := decodeBody(body)
		if err != nil {
			b.Fatal(err)
		}
		calls := in.toolCalls()
		if _, err := forwardBody(body, in, calls); err != nil {
			b.Fatal(err)
		}
		if v, _ := in.metaVersion(calls); v != statelessRevision {
			b.Fatalf("version %q", v)
		}
	}
}
