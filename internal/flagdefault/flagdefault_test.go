package flagdefault_test

import (
	"context"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/open-feature/go-sdk/openfeature/isolated"
	"github.com/open-feature/go-sdk/openfeature/memprovider"

	"github.com/mcpkit-go/mcpkit/flags"
	"github.com/mcpkit-go/mcpkit/internal/flagdefault"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

type in struct {
	ID string `json:"id" jsonschema:"description=An id"`
}

// What Of says is what a real flags.Gate with its default options does
// with tools whose flags a provider does not define: listed when "on",
// hidden when "off".
func TestOfMatchesTheGate(t *testing.T) {
	ctx := context.Background()
	api := isolated.NewAPI()
	if err := api.SetProviderAndWait(ctx, memprovider.NewInMemoryProvider(map[string]memprovider.InMemoryFlag{})); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = api.Shutdown(ctx) })
	gate, err := flags.NewGate(api.NewClient())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := mcpkit.NewServer(&mcp.Implementation{Name: "flagdefault", Version: "1"}, mcpkit.WithGates(gate))
	if err != nil {
		t.Fatal(err)
	}
	names := map[mcpkit.Risk]string{mcpkit.ReadOnly: "get_thing", mcpkit.Write: "update_thing", mcpkit.Destructive: "delete_thing"}
	for risk, name := range names {
		err := mcpkit.AddTool(srv, mcpkit.Tool{Name: name, Description: "A test tool.", Policy: mcpkit.Policy{Risk: risk, Public: true}},
			func(context.Context, in) (in, error) { return in{}, nil })
		if err != nil {
			t.Fatal(err)
		}
	}
	listed := map[string]bool{}
	for _, n := range mcpkittest.NewHarness(t, srv).Names() {
		listed[n] = true
	}
	for risk, name := range names {
		if want := flagdefault.Of(risk) == "on"; listed[name] != want {
			t.Errorf("a %v tool with no flag defined: listed %v, but Of says %q", risk, listed[name], flagdefault.Of(risk))
		}
	}
}
