package otlp

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/mcpkit-go/mcpkit/serve"
)

// The standard variables FromEnv reads to decide what to export.
const (
	EnvEndpoint        = "OTEL_EXPORTER_OTLP_ENDPOINT"
	EnvTracesEndpoint  = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	EnvMetricsEndpoint = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"
	EnvLogsEndpoint    = "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"
)

// FromEnv is a serve.TelemetryFunc: it builds OpenTelemetry SDK providers
// exporting over OTLP/HTTP for each signal whose endpoint the environment
// sets, or returns nil when none is set.
func FromEnv(ctx context.Context, name, version string) (*serve.Telemetry, error) {
	if strings.EqualFold(strings.TrimSpace(os.Getenv("OTEL_SDK_DISABLED")), "true") {
		return nil, nil
	}
	all := os.Getenv(EnvEndpoint) != ""
	traces := all || os.Getenv(EnvTracesEndpoint) != ""
	metrics := all || os.Getenv(EnvMetricsEndpoint) != ""
	logs := all || os.Getenv(EnvLogsEndpoint) != ""
	if !traces && !metrics && !logs {
		return nil, nil
	}
	for _, sig := range []struct {
		name string
		on   bool
	}{{"TRACES", traces}, {"METRICS", metrics}, {"LOGS", logs}} {
		if err := checkProtocol(sig.name, sig.on); err != nil {
			return nil, err
		}
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", name), attribute.String("service.version", version)),
		resource.WithTelemetrySDK(), resource.WithFromEnv())
	if err != nil {
		return nil, fmt.Errorf("otel resource (OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME): %w", err)
	}
	t := &serve.Telemetry{}
	var shutdowns []func(context.Context) error
	// Logs first: the audit sinks drain into them; then spans, then
	// metrics.
	t.Shutdown = func(ctx context.Context) error {
		var errs []error
		for _, s := range shutdowns {
			errs = append(errs, s(ctx))
		}
		return errors.Join(errs...)
	}
	if logs {
		le, err := otlploghttp.New(ctx)
		if err != nil {
			return nil, fmt.Errorf("otlp log exporter: %w", err)
		}
		lp := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(sdklog.NewBatchProcessor(le)))
		t.LoggerProvider = lp
		shutdowns = append(shutdowns, lp.Shutdown)
	}
	if traces {
		te, err := otlptracehttp.New(ctx)
		if err != nil {
			_ = t.Shutdown(ctx)
			return nil, fmt.Errorf("otlp trace exporter: %w", err)
		}
		tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithBatcher(te))
		t.TracerProvider = tp
		shutdowns = append(shutdowns, tp.Shutdown)
	}
	if metrics {
		me, err := otlpmetrichttp.New(ctx)
		if err != nil {
			_ = t.Shutdown(ctx)
			return nil, fmt.Errorf("otlp metric exporter: %w", err)
		}
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithResource(res), sdkmetric.WithReader(sdkmetric.NewPeriodicReader(me)))
		t.MeterProvider = mp
		shutdowns = append(shutdowns, mp.Shutdown)
	}
	return t, nil
}

// checkProtocol refuses a protocol other than http/protobuf for a signal
// that is on: the OTLP/HTTP exporters would ignore it and send protobuf to
// a collector expecting something else.
func checkProtocol(signal string, on bool) error {
	if !on {
		return nil
	}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_" + signal + "_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if v := strings.TrimSpace(os.Getenv(name)); v != "" {
			if v != "http/protobuf" {
				return fmt.Errorf("$%s=%q: this server exports OTLP over http/protobuf only; unset it or set it to http/protobuf (and point the endpoint at the collector's HTTP port, usually 4318)", name, v)
			}
			return nil // the signal's own setting wins
		}
	}
	return nil
}
