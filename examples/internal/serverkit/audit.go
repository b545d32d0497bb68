package serverkit

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
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
// transport refuses) in a keyed, hash-chained JSONL file and, when
// OTEL_EXPORTER_OTLP_ENDPOINT is set, exports the calls' spans, the
// duration metric, the audit records and the log's checkpoints as logs
// over OTLP/HTTP. It is the outermost middleware, so it sees every
// outcome.
//
// The log's key comes from -audit-key FILE, else from $MCPKIT_AUDIT_KEY,
// else from FILE.key next to the audit file, created (mode 0600) on first
// run with a warning: so that the example runs on a fresh machine, at the
// price of a key that sits beside the log it protects. In production,
// provision the key where the log's writers cannot read it.
func AuditFeature(cfg Config) Feature {
	cfg = cfg.withDefaults()
	var path, keyFile, witnessFile string
	var auditor *audit.Auditor
	return Feature{
		Name: "audit",
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&path, "audit", cfg.AuditFile,
				"append-only, keyed and hash-chained audit file (check it with: go run ./audit/cmd/auditverify -keys FILE.key -rotated FILE)")
			fs.StringVar(&keyFile, "audit-key", "",
				"audit keyring `FILE` (kid:secret lines, oldest first, mode 0600; default $"+audit.EnvKey+", else AUDIT.key, created if missing)")
			fs.StringVar(&witnessFile, "audit-witness", "",
				"also append the audit log's checkpoints to this `FILE`, kept where the audit file's writers cannot rewrite it")
		},
		Setup: func(ctx context.Context, e *Env) ([]mcpkit.Option, func(context.Context) error, error) {
			log := e.logger()
			keys, err := auditKeys(path, keyFile, log)
			if err != nil {
				return nil, nil, err
			}
			fopts := []audit.FileOption{audit.WithKeyring(keys), audit.WithFileLogger(log), audit.WithServerInfo(cfg.Name, cfg.Version)}
			var witness *audit.FileWitness
			if witnessFile != "" {
				if witness, err = audit.NewFileWitness(witnessFile); err != nil {
					return nil, nil, err
				}
				fopts = append(fopts, audit.WithWitness(witness))
			}
			var tel *otlpProviders
			endpoint := os.Getenv(EnvOTLPEndpoint)
			if endpoint != "" {
				if tel, err = newOTLPProviders(ctx, cfg); err != nil {
					if witness != nil {
						_ = witness.Close()
					}
					return nil, nil, err
				}
				fopts = append(fopts, audit.WithWitness(audit.OTelWitness(tel.logs)))
			}
			file, err := audit.Open(path, fopts...)
			if err != nil {
				if witness != nil {
					_ = witness.Close()
				}
				if tel != nil {
					_ = tel.shutdown(ctx)
				}
				return nil, nil, err
			}
			if rc := file.Recovered(); rc.Records > 0 || rc.TornBytes > 0 {
				log.Info("audit: resuming chain", "file", path, "after_seq", rc.LastSeq, "torn_bytes", rc.TornBytes)
			}
			sinks := []audit.Sink{file}
			opts := []audit.Option{audit.WithLogger(log)}
			if tel != nil {
				// Logs go behind a queue: the file is the write-ahead
				// record; the collector copy must not slow calls.
				sinks = append(sinks, audit.NewAsync(audit.OTelLogSink(tel.logs)))
				opts = append(opts, audit.WithTracerProvider(tel.traces), audit.WithMeterProvider(tel.metrics))
				log.Info("audit: exporting traces, metrics, audit logs and checkpoints over OTLP/HTTP", "endpoint", endpoint)
			}
			sink := audit.Fanout(sinks...)
			cleanup := func(ctx context.Context) error {
				// The sinks drain into the log provider first, then the
				// providers flush to the collector.
				// The last refusal summaries first, then the sinks.
				err := errors.Join(e.auditor.Close(ctx), audit.Close(ctx, sink))
				if witness != nil {
					err = errors.Join(err, witness.Close())
				}
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

// auditKeys loads the audit keyring: from keyFile, else from
// $MCPKIT_AUDIT_KEY, else from (or into) AUDIT.key.
func auditKeys(auditPath, keyFile string, log *slog.Logger) (*audit.Keyring, error) {
	switch {
	case keyFile != "":
		return audit.ReadKeyFile(keyFile)
	case os.Getenv(audit.EnvKey) != "":
		return audit.KeyringFromEnv(audit.EnvKey)
	}
	dev := auditPath + ".key"
	keys, created, err := audit.LoadOrCreateKeyFile(dev)
	if err != nil {
		return nil, err
	}
	if created {
		log.Warn("audit: created a new audit key next to the audit file; whoever can read it can rewrite the log undetected: "+
			"in production keep the key elsewhere (-audit-key FILE or $"+audit.EnvKey+")", "key_file", dev)
	}
	return keys, nil
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
