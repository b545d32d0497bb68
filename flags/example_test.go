package flags_test

import (
	"context"
	"fmt"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/open-feature/go-sdk/openfeature/isolated"
	"github.com/open-feature/go-sdk/openfeature/memprovider"

	"github.com/mcpkit-go/mcpkit/flags"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// Gate tools on any OpenFeature provider, here the SDK's in-memory one:
// add_note is on, delete_note is off, and get_note, which has no flag, takes
// the read-only default (on). flags/flagdfile serves the same decisions from
// a flagd-format file.
func Example() {
	ctx := context.Background()
	api := isolated.NewAPI()
	defer func() { _ = api.Shutdown(ctx) }()
	onOff := map[string]any{"on": true, "off": false}
	_ = api.SetProviderAndWait(ctx, memprovider.NewInMemoryProvider(map[string]memprovider.InMemoryFlag{
		"tool.add_note":    {Key: "tool.add_note", State: memprovider.Enabled, DefaultVariant: "on", Variants: onOff},
		"tool.delete_note": {Key: "tool.delete_note", State: memprovider.Enabled, DefaultVariant: "off", Variants: onOff},
	}))
	gate, err := flags.NewGate(api.NewClient())
	if err != nil {
		fmt.Println(err)
		return
	}

	srv := mcpkit.MustNewServer(&mcp.Implementation{Name: "notes", Version: "1.0.0"},
		mcpkit.WithGates(gate), mcpkit.WithDefaultIdentity(mcpkit.Identity{Subject: "dana"}))
	for name, risk := range map[string]mcpkit.Risk{"get_note": mcpkit.ReadOnly, "add_note": mcpkit.Write, "delete_note": mcpkit.Destructive} {
		mcpkit.MustAddTool(srv, mcpkit.Tool{Name: name, Description: "A note tool.",
			Policy: mcpkit.Policy{Risk: risk, Public: true, Approval: mcpkit.ApprovalNever()}},
			func(context.Context, echoIn) (echoOut, error) { return echoOut{}, nil })
	}
	ct, st := mcp.NewInMemoryTransports()
	ss, _ := srv.MCPServer().Connect(ctx, st, nil)
	defer func() { _ = ss.Close() }()
	cs, _ := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1"}, nil).Connect(ctx, ct, nil)
	defer func() { _ = cs.Close() }()

	res, _ := cs.ListTools(ctx, nil)
	for _, t := range res.Tools {
		fmt.Println("listed:", t.Name)
	}
	call, _ := cs.CallTool(ctx, &mcp.CallToolParams{Name: "delete_note", Arguments: map[string]any{"text": "x"}})
	fmt.Println("delete_note:", mcpkittest.Text(call))
	// Output:
	// listed: add_note
	// listed: get_note
	// delete_note: tool delete_note is not enabled for you: feature flag tool.delete_note is off
}

// An invalid option is an error when the gate is built.
func ExampleNewGate_invalidOption() {
	api := isolated.NewAPI()
	_, err := flags.NewGate(api.NewClient(), flags.WithTimeout(0))
	fmt.Println(err)
	_, err = flags.NewGate(api.NewClient(), flags.WithTimeout(500*time.Millisecond), flags.WithServerFlag("mcp.enabled"))
	fmt.Println(err)
	// Output:
	// flags: WithTimeout needs a positive duration (got 0s)
	// <nil>
}
