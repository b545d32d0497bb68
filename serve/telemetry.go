package serve

import (
	"context"

	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Telemetry is where a server's OpenTelemetry signals go: a span and a
// duration point per MCP request, the audit records and the audit log's
// checkpoints as log records. Any provider may be nil (that signal is not
// exported). serve depends on the OpenTelemetry API only; the providers
// come from whichever SDK and exporters the server links (see serve/otlp).
type Telemetry struct {
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
	LoggerProvider log.LoggerProvider
	// Shutdown, if not nil, flushes and stops the providers. It runs last
	// when the server stops, after the audit sinks drained into them.
	Shutdown func(context.Context) error
}

// TelemetryFunc returns the server's Telemetry, or nil when none is
// configured. It is called once at startup with the server's name and
// version (the service.name and service.version of the resource). An
// error stops the server before it serves.
type TelemetryFunc func(ctx context.Context, name, version string) (*Telemetry, error)
