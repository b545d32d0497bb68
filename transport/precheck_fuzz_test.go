package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/internal/wire"
)

// sdkWitness serves bodies with the bare go-sdk streamable handler
// (stateless, JSON responses, a protocol version that allows batches) and
// reports, for every tools/call the SDK actually dispatched, the id it
// answered, the tool name it decoded and what _meta in mcpkit's namespace
// it saw. A receiving middleware answers every tools/call itself, before
// any tool lookup, so the tool need not exist.
type sdkWitness struct{ h http.Handler }

func newSDKWitness() *sdkWitness {
	srv := mcp.NewServer(&mcp.Implementation{Name: "witness", Version: "1"}, nil)
	srv.AddReceivingMiddleware(func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			if method != methodToolsCall {
				return next(ctx, method, req)
			}
			p := req.GetParams().(*mcp.CallToolParamsRaw)
			var ns []string
			for k, v := range p.Meta {
				if strings.HasPrefix(k, wire.MetaNamespace) {
					ns = append(ns, fmt.Sprintf("%s=%v", k, v))
				}
			}
			slices.Sort(ns)
			seen, _ := json.Marshal(struct {
				Name string
				NS   []string
			}{p.Name, ns})
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: string(seen)}}}, nil
		}
	})
	return &sdkWitness{h: mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv },
		&mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true, MaxRequestBodyBytes: -1})}
}

// dispatched is one tools/call the SDK ran: "id-type:id" -> what it saw.
type dispatched map[string][]witnessed

type witnessed struct {
	Name string
	NS   []string
}

func idKey(id jsonrpc.ID) string { return fmt.Sprintf("%T:%v", id.Raw(), id.Raw()) }

func (s *sdkWitness) serve(t *testing.T, body []byte) dispatched {
	req := httptest.NewRequest(http.MethodPost, "/mcp", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Protocol-Version", "2025-03-26")
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	out := dispatched{}
	if rec.Code != http.StatusOK {
		return out
	}
	var raws []json.RawMessage
	if json.Unmarshal(rec.Body.Bytes(), &raws) != nil {
		raws = []json.RawMessage{rec.Body.Bytes()}
	}
	for _, raw := range raws {
		msg, err := jsonrpc.DecodeMessage(raw)
		if err != nil {
			t.Fatalf("the SDK answered something that is not JSON-RPC: %q", raw)
		}
		resp, ok := msg.(*jsonrpc.Response)
		if !ok || resp.Error != nil {
			continue
		}
		var res mcp.CallToolResult
		if json.Unmarshal(resp.Result, &res) != nil || len(res.Content) != 1 {
			continue
		}
		tc, ok := res.Content[0].(*mcp.TextContent)
		var w witnessed
		if !ok || json.Unmarshal([]byte(tc.Text), &w) != nil {
			continue
		}
		out[idKey(resp.ID)] = append(out[idKey(resp.ID)], w)
	}
	return out
}

// FuzzPreCheckAgreesWithSDK feeds arbitrary bodies to the transport's
// decode (the one the scope pre-check, request-id stamping and invalid-call
// audit act on) and to the bare go-sdk handler. Every tools/call the SDK
// dispatches must be one the pre-check found, with the same id and tool
// name, and decodable; and the body the transport forwards must make the
// SDK dispatch exactly the same calls, each carrying the real request id
// and no other value in mcpkit's _meta namespace.
func FuzzPreCheckAgreesWithSDK(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delete_note","arguments":{"text":"x"}}}`,
		`{"jsonrpc":"2.0","id":"a","method":"tools\/call","params":{"name":"delete_note"}}`,
		`{"jsonrpc":"2.0","id":2,"method":"tools\u002fcall","params":{"name":"delete\u005fnote","Name":"get_echo"}}`,
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"Name":"get_echo","name":"delete_note","name":"x"}}`,
		`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"_meta":{"io.mcpkit/request-id":"forged"},"name":"a","_meta":{"p":1}}}`,
		`{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":123}}`,
		`{"jsonrpc":"2.0","id":6,"method":"tools/call","params":["delete_note"]}`,
		`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":null}`,
		`{"jsonrpc":"2.0","id":8.5,"method":"tools/call","params":{"name":"a","inputResponses":{"r":{"action":"accept"}},"requestState":"s"}}`,
		`[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"b"}}]`,
		`[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a"}},{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"b"}}]`,
		`{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"a"}} trailing`,
		`{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"a","arguments":` + strings.Repeat("[", 998) + strings.Repeat("]", 998) + `}}`,
		`]]]]{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"a"}}`,
		`{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"name":"a\ud800","arguments":{"<":"&"}}}`,
		`{"JSONRPC":"2.0","ID":13,"METHOD":"tools/call","params":{"name":"a"}}`,
	} {
		f.Add([]byte(s))
	}
	sdk := newSDKWitness()
	f.Fuzz(func(t *testing.T, body []byte) {
		raw := sdk.serve(t, body)
		in, err := decodeBody(body)
		if err != nil {
			if len(raw) > 0 {
				t.Fatalf("the transport could not decode a body whose tools/call the SDK ran: %v", raw)
			}
			return
		}
		calls := in.toolCalls()
		found := map[string][]rpcCall{}
		for _, c := range calls {
			found[idKey(c.ID)] = append(found[idKey(c.ID)], c)
		}
		for id, ws := range raw {
			for _, w := range ws {
				i := slices.IndexFunc(found[id], func(c rpcCall) bool { return c.Err == nil && c.Name() == w.Name })
				if i < 0 {
					t.Fatalf("the SDK ran tools/call %s %q that the pre-check did not see as decodable (saw %+v)", id, w.Name, found[id])
				}
			}
		}
		for _, c := range calls {
			if c.Err != nil {
				return // answered 400 by the transport; nothing is forwarded
			}
		}
		out, err := forwardBody(body, in, calls)
		if err != nil {
			return // answered 400 by the transport
		}
		fwd := sdk.serve(t, out)
		if len(fwd) != len(raw) {
			t.Fatalf("the forwarded body ran other calls: %v, the client's body %v", fwd, raw)
		}
		for id, ws := range fwd {
			if len(ws) != len(raw[id]) {
				t.Fatalf("call %s: forwarded %v, the client's body %v", id, ws, raw[id])
			}
			for i, w := range ws {
				if w.Name != raw[id][i].Name {
					t.Fatalf("call %s: the forwarded body calls %q, the client's %q", id, w.Name, raw[id][i].Name)
				}
				want := []string{wire.MetaRequestID + "=" + strings.SplitN(id, ":", 2)[1]}
				if !slices.Equal(w.NS, want) {
					t.Fatalf("call %s: the server sees %v in mcpkit's _meta namespace, want %v", id, w.NS, want)
				}
			}
		}
	})
}

// The witness must see what it is there to see, or the fuzz target checks
// nothing: the SDK runs these calls, case-sensitively, batch and all.
func TestSDKWitnessSeesDispatchedCalls(t *testing.T) {
	sdk := newSDKWitness()
	got := sdk.serve(t, []byte(`{"jsonrpc":"2.0","id":3,"method":"tools\/call","params":{"Name":"get_echo","name":"delete_note","_meta":{"io.mcpkit/request-id":"forged"}}}`))
	if len(got) != 1 || len(got["int64:3"]) != 1 || got["int64:3"][0].Name != "delete_note" ||
		!slices.Equal(got["int64:3"][0].NS, []string{wire.MetaRequestID + "=forged"}) {
		t.Fatalf("witness saw %v", got)
	}
	got = sdk.serve(t, []byte(`[{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"x"}},{"jsonrpc":"2.0","id":1,"method":"ping"}]`))
	if len(got) != 1 || got["string:a"][0].Name != "x" {
		t.Fatalf("witness saw %v in a batch", got)
	}
}
