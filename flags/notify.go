package flags

import (
	"github.com/open-feature/go-sdk/openfeature"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// NotifyChanges makes srv send notifications/tools/list_changed (and
// resources/ and prompts/list_changed when it has resources or prompts) to
// its clients whenever the provider reports a change (configuration changed,
// ready, error, stale), so that a flipped flag shows in the agent without a
// reconnect. Legacy sessions receive the notification directly; 2026-07-28
// clients through their subscriptions/listen stream. Call stop to detach.
func (g *Gate) NotifyChanges(srv *mcpkit.Server) (stop func()) {
	fn := func(openfeature.EventDetails) { srv.NotifyListsChanged() }
	cb := openfeature.EventCallback(&fn)
	types := []openfeature.EventType{
		openfeature.ProviderConfigChange, openfeature.ProviderReady,
		openfeature.ProviderError, openfeature.ProviderStale,
	}
	for _, t := range types {
		g.client.AddHandler(t, cb)
	}
	return func() {
		for _, t := range types {
			g.client.RemoveHandler(t, cb)
		}
	}
}
