package mcpkit

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// clientInfoMetas are _meta client info values as a request can carry
// them: typed in process, decoded maps (well formed, with extra or
// mistyped fields, too deep), and values that are not client info.
func clientInfoMetas() []any {
	deep := any("x")
	for range 1001 {
		deep = []any{deep}
	}
	return []any{
		&mcp.Implementation{Name: "typed", Version: "1"},
		(*mcp.Implementation)(nil),
		map[string]any{"name": "c", "version": "1"},
		map[string]any{"name": "c", "version": "1", "title": "T", "websiteUrl": "https://x", "icons": []any{map[string]any{"src": "s"}}, "extra": true},
		map[string]any{"name": 7},
		map[string]any{"Name": "upper-case key", "version": "1"},
		map[string]any{"name": "c", "nested": deep},
		map[string]any{"name": strings.Repeat("n", 40<<10)},
		map[string]any{},
		"a string", 3.5, []any{"x"}, true, nil,
	}
}

// sdkClientInfo returns what the SDK's ClientInfo returns, for every kind
// of _meta value, on both request types whose client info is read.
func TestSDKClientInfoMatchesTheSDK(t *testing.T) {
	for _, v := range clientInfoMetas() {
		for _, meta := range []mcp.Meta{{mcp.MetaKeyClientInfo: v}, {}, nil} {
			call := &mcp.CallToolRequest{Params: &mcp.CallToolParamsRaw{Meta: meta}}
			if got, want := sdkClientInfo(call), call.ClientInfo(); !reflect.DeepEqual(got, want) {
				t.Errorf("call, _meta %.80v: %+v, the SDK's %+v", meta, got, want)
			}
			list := &mcp.ListToolsRequest{Params: &mcp.ListToolsParams{Meta: meta}}
			if got, want := sdkClientInfo(list), list.ClientInfo(); !reflect.DeepEqual(got, want) {
				t.Errorf("list, _meta %.80v: %+v, the SDK's %+v", meta, got, want)
			}
		}
	}
	for _, req := range []mcp.Request{&mcp.CallToolRequest{}, &mcp.ListToolsRequest{}, &mcp.CallToolRequest{Params: (*mcp.CallToolParamsRaw)(nil)}} {
		if got := sdkClientInfo(req); got != nil {
			t.Errorf("%T without params: %+v", req, got)
		}
	}
}

// Over a real session: the client info the SDK's client sends (in _meta,
// or in initialize only) is read as the SDK reads it.
func TestSDKClientInfoMatchesTheSDKOverASession(t *testing.T) {
	ctx := context.Background()
	s := mcp.NewServer(&mcp.Implementation{Name: "s", Version: "1"}, nil)
	var got, want *mcp.Implementation
	s.AddTool(&mcp.Tool{Name: "t", InputSchema: map[string]any{"type": "object"}}, func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		got, want = sdkClientInfo(req), req.ClientInfo()
		return &mcp.CallToolResult{}, nil
	})
	ct, st := mcp.NewInMemoryTransports()
	ss, err := s.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "the-client", Version: "9"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "t"}); err != nil {
		t.Fatal(err)
	}
	if want == nil || want.Name != "the-client" || !reflect.DeepEqual(got, want) {
		t.Fatalf("client info %+v, the SDK's %+v (want the-client)", got, want)
	}
}
