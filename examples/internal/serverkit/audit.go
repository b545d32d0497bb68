package serverkit

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

// EnvOTLPEndpoint turns on OTLP/HTTP export when set; the exporters read
// the other standard OTEL_EXPORTER_OTLP_* variables themselves.
const EnvOTLPEndpoint = "OTEL_EXPORTER_OTLP_ENDPOINT"

// AuditFeature records every tool call (and every request the HTTP
// transport refuses) in a hash-chained JSONL file and, when
// OTEL_EXPORTER_OTLP_ENDPOINT is set, exports the calls' spans, the
// duration metric and the audit records as logs over OTLP/HTTP. It is the
// outermost middleware, so it sees every outcome.
func AuditFeature(cfg Config) Feature {
	cfg = cfg.withDefaults()
	var path string
	var auditor *audit.Auditor
	return Feature{
		Name: "audit",
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&path, "audit", cfg.AuditFile,
				"append-only, hash-chained audit file (check it with: go run ./audit/cmd/auditverify FILE)")
		},
		Setup: func(ctx context.Context, e *Env) ([]mcpkit.Option, func(context.Context) error, error) {
			log := e.logger()
			file, err := audit.Open(path, audit.WithFileLogger(log))
			if err != nil {
				return nil, nil, err
			}
			if rc := file.Recovered(); rc.Records > 0 || rc.TornBytes > 0 {
				log.Info("audit: resuming chain", "file", path, "after_seq", rc.LastSeq, "torn_bytes", rc.TornBytes)
			}
			sinks := []audit.Sink{file}
			opts := []audit.Option{audit.WithLogger(log)}
			var tel *otlpProviders
			if endpoint := os.Getenv(EnvOTLPEndpoint); endpoint != "" {
				if tel, err = newOTLPProviders(ctx, cfg); err != nil {
					_ = file.Close(ctx)
					return nil, nil, err
				}
				// Logs go behind a queue: the file is the write-ahead
				// record; the collector copy must not slow calls.
				sinks = append(sinks, audit.NewAsync(audit.OTelLogSink(tel.logs)))
				opts = append(opts, audit.WithTracerProvider(tel.traces), audit.WithMeterProvider(tel.metrics))
				log.Info("audit: exporting traces, metrics and audit logs over OTLP/HTTP", "endpoint", endpoint)
			}
			sink := audit.Fanout(sinks...)
			cleanup := func(ctx context.Context) error {
				// The sinks drain into the log provider first, then the
				// providers flush to the collector.
				// The last refusal summaries first, then the sinks.
				err := errors.Join(e.auditor.Close(ctx), audit.Close(ctx, sink))
				if tel != nil {
					err = errors.Join(err, tel.shutdown(ctx))
				}
				return err
			}
			auditor = audit.New(sink, opts...)
			e.auditor = auditor
			return []mcpkit.Option{mcpkit.WithMiddleware(auditor.Middleware())}, cleanup, nil
		},
		// Every MCP method (initialize, tools/list, ...) gets its span and
		// metric point, and sessions their duration.
		Started: func(srv *mcpkit.Server) func() {
			if auditor != nil {
				auditor.Instrument(srv.MCPServer())
			}
			return nil
		},
	}
}

// otlpProviders are the OpenTelemetry SDK providers exporting over
// OTLP/HTTP.
type otlpProviders struct {
	traces  *sdktrace.TracerProvider
	metrics *sdkmetric.MeterProvider
	logs    *sdklog.LoggerProvider
}

func newOTLPProviders(ctx context.Context, cfg Config) (*otlpProviders, error) {
	res, err := resource.New(ctx, resource.WithFromEnv(), resource.WithTelemetrySDK(),
		resource.WithAttributes(attribute.String("service.name", cfg.Name), attribute.String("service.version", cfg.Version)))
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
