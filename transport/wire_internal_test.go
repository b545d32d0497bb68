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
