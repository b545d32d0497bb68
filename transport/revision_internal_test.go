package transport

import (
	"bytes"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// metaVersionByDecoding is what metaVersion computed before it read
// tools/call params from the calls already decoded: every request's params
// decoded again for _meta.
func metaVersionByDecoding(in inbound) (string, *jsonrpc.ID) {
	key := []byte(mcp.MetaKeyProtocolVersion)
	for _, m := range in.msgs {
		req, ok := m.(*jsonrpc.Request)
		if !ok || !bytes.Contains(req.Params, key) {
			continue
		}
		var p struct {
			Meta map[string]any `json:"_meta"`
		}
		if sdkUnmarshal(req.Params, &p) != nil {
			continue
		}
		if v, ok := p.Meta[mcp.MetaKeyProtocolVersion].(string); ok && v != "" {
			id := req.ID
			return v, &id
		}
	}
	return "", nil
}

// metaVersionBodies are messages whose _meta version the transport must
// read as the SDK will: tools/call and other requests, batches mixing them,
// versions that are absent, empty, not strings, duplicated or null.
var metaVersionBodies = []string{
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t"}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","_meta":null}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","_meta":{"io.modelcontextprotocol/protocolVersion":""}}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","_meta":{"io.modelcontextprotocol/protocolVersion":7}}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2025-06-18"}}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","_meta":{"io.modelcontextprotocol/protocolVersion":"2025-06-18"},"_meta":null}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/protocolVersion":"2025-06-18"}}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","arguments":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}`,
	`{"jsonrpc":"2.0","id":"a","method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}`,
	`{"jsonrpc":"2.0","method":"notifications/initialized","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}`,
	`[{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}},{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"t","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}]`,
	`[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t"}},{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}]`,
	`[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","_meta":{"io.modelcontextprotocol/protocolVersion":"2025-06-18"}}},{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"u","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}]`,
	`[{"jsonrpc":"2.0","id":1,"result":{}},{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"u","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}},{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"v","_meta":{"io.modelcontextprotocol/protocolVersion":"2025-06-18"}}}]`,
}

// The version and id metaVersion finds are those a second decode of every
// request's params finds.
func TestMetaVersionMatchesADecodeOfEveryRequest(t *testing.T) {
	for _, b := range metaVersionBodies {
		in, err := decodeBody([]byte(b))
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		calls := in.toolCalls()
		for _, c := range calls {
			if c.Err != nil {
				t.Fatalf("%s: %v", b, c.Err)
			}
		}
		wantV, wantID := metaVersionByDecoding(in)
		gotV, gotID := in.metaVersion(calls)
		if gotV != wantV || (gotID == nil) != (wantID == nil) || gotID != nil && gotID.Raw() != wantID.Raw() {
			t.Errorf("%s:\n got %q %v\nwant %q %v", b, gotV, gotID, wantV, wantID)
		}
	}
}

// A tools/call's _meta is read from the params toolCalls decoded: finding
// its version allocates only the id it returns, where a second decode
// allocated a 32 KiB read buffer and the whole _meta again.
func TestMetaVersionDoesNotDecodeCallParamsAgain(t *testing.T) {
	b := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","arguments":{"q":"` + strings.Repeat("x", 200) +
		`"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"c","version":"1"}}}}`
	in, err := decodeBody([]byte(b))
	if err != nil {
		t.Fatal(err)
	}
	calls := in.toolCalls()
	var v string
	allocs := testing.AllocsPerRun(100, func() { v, _ = in.metaVersion(calls) })
	if v != statelessRevision {
		t.Fatalf("version %q, want %q", v, statelessRevision)
	}
	if allocs > 1 {
		t.Errorf("metaVersion allocated %.0f times per call, want at most 1 (the id): the params were decoded again", allocs)
	}
}
