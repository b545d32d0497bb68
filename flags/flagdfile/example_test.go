package flagdfile_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/open-feature/go-sdk/openfeature/isolated"

	"github.com/mcpkit-go/mcpkit/flags"
	"github.com/mcpkit-go/mcpkit/flags/flagdfile"
	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// Gate tools on a flagd-format file: delete_note is off, add_note is on for
// the sre group only, read-only tools are on by default.
func Example() {
	dir, _ := os.MkdirTemp("", "flags")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "flags.json")
	_ = os.WriteFile(path, []byte(`{"flags": {
	  "tool.add_note": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off",
	    "targeting": {"if": [{"in": ["sre", {"var": "groups"}]}, "on", "off"]}},
	  "tool.delete_note": {"state": "DISABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off"}
	}}`), 0o600)

	provider, err := flagdfile.New(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	api := isolated.NewAPI()
	defer func() { _ = api.Shutdown(ctx) }()
	if err := api.SetProviderAndWait(ctx, provider); err != nil {
		fmt.Println(err) // the gate would refuse every tool until the file is fixed
		return
	}
	gate, err := flags.NewGate(api.NewClient())
	if err != nil {
		fmt.Println(err)
		return
	}

	for _, id := range []mcpkit.Identity{{Subject: "dana", Groups: []string{"sre"}}, {Subject: "eve"}} {
		srv := mcpkit.MustNewServer(&mcp.Implementation{Name: "notes", Version: "1.0.0"},
			mcpkit.WithGates(gate), mcpkit.WithDefaultIdentity(id))
		for name, risk := range map[string]mcpkit.Risk{"get_note": mcpkit.ReadOnly, "add_note": mcpkit.Write, "delete_note": mcpkit.Destructive} {
			mcpkit.MustAddTool(srv, mcpkit.Tool{Name: name, Description: "A note tool.",
				Policy: mcpkit.Policy{Risk: risk, Public: true, Approval: mcpkit.ApprovalNever()}},
				func(context.Context, echoIn) (echoOut, error) { return echoOut{}, nil })
		}
		ct, st := mcp.NewInMemoryTransports()
		ss, _ := srv.MCPServer().Connect(ctx, st, nil)
		cs, _ := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1"}, nil).Connect(ctx, ct, nil)
		res, _ := cs.ListTools(ctx, nil)
		var names []string
		for _, t := range res.Tools {
			names = append(names, t.Name)
		}
		fmt.Println(id.Subject, names)
		_ = cs.Close()
		_ = ss.Close()
	}
	// Output:
	// dana [add_note get_note]
	// eve [get_note]
}
