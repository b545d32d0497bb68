package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Telemetry is the service's own OpenTelemetry setup, made before mcpkit
// was added. mcpkit is handed these providers; it never builds its own and
// never touches the globals.
type Telemetry struct {
	Traces  *sdktrace.TracerProvider
	Metrics *sdkmetric.MeterProvider
	Logs    *sdklog.LoggerProvider
}

// NewTelemetry exports over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is
// set (the exporters read the standard OTEL_EXPORTER_OTLP_* variables);
// otherwise the providers record nothing, so a laptop run needs no
// collector.
func NewTelemetry(ctx context.Context) (*Telemetry, bool, error) {
	res, err := resource.New(ctx, resource.WithFromEnv(), resource.WithTelemetrySDK(),
		resource.WithAttributes(attribute.String("service.name", serviceName), attribute.String("service.version", version)))
	if err != nil {
		return nil, false, fmt.Errorf("otel resource: %w", err)
	}
	if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" {
		return &Telemetry{
			Traces:  sdktrace.NewTracerProvider(sdktrace.WithResource(res)),
			Metrics: sdkmetric.NewMeterProvider(sdkmetric.WithResource(res)),
			Logs:    sdklog.NewLoggerProvider(sdklog.WithResource(res)),
		}, false, nil
	}
	te, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("otlp trace exporter: %w", err)
	}
	me, err := otlpmetrichttp.New(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("otlp metric exporter: %w", err)
	}
	le, err := otlploghttp.New(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("otlp log exporter: %w", err)
	}
	return &Telemetry{
		Traces:  sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithBatcher(te)),
		Metrics: sdkmetric.NewMeterProvider(sdkmetric.WithResource(res), sdkmetric.WithReader(sdkmetric.NewPeriodicReader(me))),
		Logs:    sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(sdklog.NewBatchProcessor(le))),
	}, true, nil
}

// Shutdown flushes and stops the providers: logs (the audit copies), then
// spans, then metrics.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	return errors.Join(t.Logs.Shutdown(ctx), t.Traces.Shutdown(ctx), t.Metrics.Shutdown(ctx))
}
