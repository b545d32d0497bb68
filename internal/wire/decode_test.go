package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	sjson "github.com/segmentio/encoding/json"
)

// sdkDecode is the go-sdk's decoding (internal/json.Decoder.Decode): the
// reference DecodeValue must match.
func sdkDecode(data []byte, v any) error {
	dec := sjson.NewDecoder(bytes.NewReader(data))
	dec.DontMatchCaseInsensitiveStructFields()
	return dec.Decode(v)
}

// decodeTargets are the types the transports and the server decode
// client JSON into.
var decodeTargets = []func() any{
	func() any { return new(any) },
	func() any { return new(map[string]any) },
	func() any { return new([]json.RawMessage) },
	func() any { return new(*mcp.CallToolParamsRaw) },
	func() any { return new(*mcp.Implementation) },
	func() any {
		return new(struct {
			Meta map[string]any `json:"_meta"`
		})
	},
	func() any {
		return new(struct {
			InputResponses json.RawMessage `json:"inputResponses"`
		})
	},
}

// sameDecode fails t unless DecodeValue and the SDK's decoding of data give
// the same value and the same error.
func sameDecode(t *testing.T, data []byte) {
	t.Helper()
	for _, target := range decodeTargets {
		got, want := target(), target()
		gotErr, wantErr := DecodeValue(data, got), sdkDecode(data, want)
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || reflect.TypeOf(gotErr) != reflect.TypeOf(wantErr) {
			t.Fatalf("%q into %T: error %T %v, the SDK's %T %v", data, got, gotErr, gotErr, wantErr, wantErr)
		}
		for _, sentinel := range []error{io.EOF, io.ErrUnexpectedEOF} {
			if errors.Is(gotErr, sentinel) != errors.Is(wantErr, sentinel) {
				t.Fatalf("%q into %T: error %v, the SDK's %v", data, got, gotErr, wantErr)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q into %T: %#v, the SDK's %#v", data, got, got, want)
		}
	}
}

var decodeSeeds = []string{
	``, ` `, "\t\r\n", `null`, `{}`, `[]`, `1`, `-0.5e3`, `"x"`, `true`, `fals`, `tru `, `nul`, `[1,`, `[1, `, `{"a"`, `{"a" `, `{"a":`,
	`{"a":1} {"b":2}`, `{"a":1}garbage`, `{"a":1}}`, `  {"a":1}  `, `"\u00e9\ud83d\ude00"`, `"\ud800"`, "\"\xff\"", `"a\`, `"abc   `,
	`{"name":"t","arguments":{"q":1},"_meta":{"k":"v"}}`, `{"Name":"t"}`, `{"name":1}`, `{"name":"t","name":"u"}`,
	`{"name":"t","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"},"_meta":null}`,
	`{"name":"c","version":"1","title":"T","websiteUrl":"u","icons":[{"src":"s"}]}`, `{"version":["x"]}`,
	`[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"tools/list"}]`, `[1,2,3]   x`,
	`{"inputResponses":{"a":{"b":[1,2]}},"inputResponses":7}`, `{"_meta":{"a":{"b":{"c":[[[]]]}}}}`, `1e999`, `01`, `-`, `[-]`, `{,}`,
}

func TestDecodeValueMatchesTheSDK(t *testing.T) {
	for _, s := range decodeSeeds {
		sameDecode(t, []byte(s))
	}
	// Around the Decoder's first read, where DecodeValue hands over to it.
	for _, n := range []int{decoderFirstRead - 40, decoderFirstRead - 12, decoderFirstRead - 11, decoderFirstRead - 10, decoderFirstRead, decoderFirstRead + 1, 3 * decoderFirstRead} {
		for _, tail := range []string{`"}`, `"`, `"} `, `",`, `"}x`} {
			pad := n - len(`{"name":"`) - len(tail)
			if pad < 0 {
				continue
			}
			sameDecode(t, []byte(`{"name":"`+strings.Repeat("y", pad)+tail))
		}
	}
}

// DecodeValue does not allocate the Decoder's read buffer.
func TestDecodeValueAllocatesNoReadBuffer(t *testing.T) {
	data := []byte(`{"name":"t","arguments":{"q":1}}`)
	res := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var p *mcp.CallToolParamsRaw
			if err := DecodeValue(data, &p); err != nil {
				b.Fatal(err)
			}
		}
	})
	if got := res.AllocedBytesPerOp(); got >= decoderFirstRead {
		t.Errorf("DecodeValue allocated %d bytes per decode of %d bytes: the Decoder's %d-byte buffer is back", got, len(data), decoderFirstRead)
	}
}

func FuzzDecodeValueMatchesTheSDK(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sameDecode(t, data)
	})
}

func BenchmarkDecodeValue(b *testing.B) {
	data := []byte(`{"name":"list_incidents","arguments":{"service":"billing","limit":20},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"c","version":"1"}}}`)
	for _, v := range []struct {
		name string
		fn   func([]byte, any) error
	}{{"sdk-decoder", sdkDecode}, {"DecodeValue", DecodeValue}} {
		b.Run(v.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var p *mcp.CallToolParamsRaw
				if err := v.fn(data, &p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
