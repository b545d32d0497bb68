package main

import (
	"context"
	"errors"
	"flag"
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

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// auditFeature records every tool call in a hash-chained JSONL file and,
// when OTEL_EXPORTER_OTLP_ENDPOINT is set, exports the calls' spans, the
// duration metric and the audit records as logs over OTLP/HTTP.
func auditFeature() feature {
	var path string
	return feature{
		name: "audit",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&path, "audit", "incidents-audit.jsonl",
				"append-only, hash-chained audit file (check it with: go run ./audit/cmd/auditverify FILE)")
		},
		setup: func(ctx context.Context, e *env) ([]mcpkit.Option, func(context.Context) error, error) {
			file, err := audit.Open(path, audit.WithFileLogger(e.logger))
			if err != nil {
				return nil, nil, err
			}
			if rc := file.Recovered(); rc.Records > 0 || rc.TornBytes > 0 {
				e.logger.Info("audit: resuming chain", "file", path, "after_seq", rc.LastSeq, "torn_bytes", rc.TornBytes)
			}
			sinks := []audit.Sink{file}
			opts := []audit.Option{audit.WithLogger(e.logger)}
			var tel *otlpProviders
			if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" {
				if tel, err = newOTLPProviders(ctx); err != nil {
					_ = file.Close(ctx)
					return nil, nil, err
				}
				// Logs go behind a queue: the file is the write-ahead
				// record; the collector copy must not slow calls.
				sinks = append(sinks, audit.NewAsync(audit.OTelLogSink(tel.logs)))
				opts = append(opts, audit.WithTracerProvider(tel.traces), audit.WithMeterProvider(tel.metrics))
				e.logger.Info("audit: exporting traces, metrics and audit logs over OTLP/HTTP", "endpoint", os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT"))
			}
			sink := audit.Fanout(sinks...)
			cleanup := func(ctx context.Context) error {
				// The sinks drain into the log provider first, then the
				// providers flush to the collector.
				err := audit.Close(ctx, sink)
				if tel != nil {
					err = errors.Join(err, tel.shutdown(ctx))
				}
				return err
			}
			e.auditor = audit.New(sink, opts...)
			return []mcpkit.Option{mcpkit.WithMiddleware(e.auditor.Middleware())}, cleanup, nil
		},
	}
}

// otlpProviders are the OpenTelemetry SDK providers exporting over
// OTLP/HTTP. The exporters read the standard OTEL_EXPORTER_OTLP_* variables.
type otlpProviders struct {
	traces  *sdktrace.TracerProvider
	metrics *sdkmetric.MeterProvider
	logs    *sdklog.LoggerProvider
}

func newOTLPProviders(ctx context.Context) (*otlpProviders, error) {
	res, err := resource.New(ctx, resource.WithFromEnv(), resource.WithTelemetrySDK(),
		resource.WithAttributes(attribute.String("service.name", "incidents"), attribute.String("service.version", version)))
	if err != nil {
		return nil, fmt.Errorf("otel resource: %w", err)
	}
	te, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("otlp trace exporter: %w", err)
	}
	me, err := otlpmetrichttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("otlp metric exporter: %w", err)
	}
	le, err := otlploghttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("otlp log exporter: %w", err)
	}
	return &otlpProviders{
		traces:  sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithBatcher(te)),
		metrics: sdkmetric.NewMeterProvider(sdkmetric.WithResource(res), sdkmetric.WithReader(sdkmetric.NewPeriodicReader(me))),
		logs:    sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(sdklog.NewBatchProcessor(le))),
	}, nil
}

// shutdown flushes and stops the providers: logs, then spans, then
// metrics.
func (p *otlpProviders) shutdown(ctx context.Context) error {
	return errors.Join(p.logs.Shutdown(ctx), p.traces.Shutdown(ctx), p.metrics.Shutdown(ctx))
}
