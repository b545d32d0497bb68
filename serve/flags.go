package serve

import (
	"context"
	"flag"
	"fmt"

	"github.com/open-feature/go-sdk/openfeature/isolated"

	"github.com/mcpkit-go/mcpkit/flags"
	"github.com/mcpkit-go/mcpkit/flags/flagdfile"
	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// flagsFeature gates tools on the flag file given with -flags (flagd
// format, reloaded live). Without -flags every tool is visible. A file
// that cannot be loaded refuses every tool until it is fixed; the fix is
// picked up without a restart.
func flagsFeature(Config) feature {
	var path string
	var gate *flags.Gate
	return feature{
		name: "flags",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&path, "flags", "", "flagd-format flag `FILE` gating the tools (reloaded on change); empty serves every tool")
		},
		setup: func(ctx context.Context, e *env) ([]mcpkit.Option, func(context.Context) error, error) {
			if path == "" {
				return nil, nil, nil
			}
			api := isolated.NewAPI()
			provider, err := flagdfile.New(path, flagdfile.WithLogger(e.logger))
			if err != nil {
				return nil, nil, fmt.Errorf("flags: %w", err)
			}
			if err := api.SetProviderAndWait(ctx, provider); err != nil {
				// Keep serving: the gate refuses every tool until the file
				// is fixed, and the fix is picked up without a restart.
				e.logger.Error("flag file invalid; every tool is refused until it is fixed", "error", err)
			}
			if gate, err = flags.NewGate(api.NewClient()); err != nil {
				return nil, nil, err
			}
			shutdown := func(ctx context.Context) error {
				if err := api.Shutdown(ctx); err != nil {
					return fmt.Errorf("flags: %w", err)
				}
				return nil
			}
			return []mcpkit.Option{mcpkit.WithGates(gate)}, shutdown, nil
		},
		// A flipped flag reaches connected clients as
		// notifications/tools/list_changed, without a reconnect.
		started: func(srv *mcpkit.Server) func() {
			if gate == nil {
				return nil
			}
			return gate.NotifyChanges(srv)
		},
	}
}
