package otlp_test

import (
	"github.com/mcpkit-go/mcpkit/serve"
	"github.com/mcpkit-go/mcpkit/serve/otlp"
)

// A server exporting over OTLP/HTTP whenever OTEL_EXPORTER_OTLP_ENDPOINT
// (or a signal's own endpoint) is set, and nothing otherwise.
func ExampleFromEnv() {
	serve.Main(serve.Config{
		Name:      "greeter",
		Version:   "0.3.0",
		Scopes:    []string{"greet:read"},
		Tools:     greeter,
		Telemetry: otlp.FromEnv,
	})
}
