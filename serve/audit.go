package serve

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// auditFeature records every tool call (and every request the transport
// refuses) in a keyed, hash-chained JSONL file and, when Config.Telemetry
// gives providers, traces every MCP request, records the duration metric
// and copies the audit records and the log's checkpoints as log records.
// It is the outermost middleware, so it sees every outcome.
//
// The log's key comes from -audit-key FILE, else from $MCPKIT_AUDIT_KEY,
// else from FILE.key next to the audit file, created (mode 0600) on first
// run with a warning: so that a server runs on a fresh machine, at the
// price of a key that sits beside the log it protects.
//
// Each process writes as its instance (-instance-id, default the host
// name): every line of its log says which replica served the call, and
// "{instance}" in -audit gives each replica of a fleet its own file
// (audit/{instance}.jsonl). A replica of a fleet (shared state connected)
// without -audit writes <name>-audit/{instance}.jsonl: the fleet's files
// in one directory, one per replica, for auditverify -dir.
func auditFeature(cfg Config) feature {
	var path, keyFile, witnessFile string
	var flags *flag.FlagSet
	var auditor *audit.Auditor
	return feature{
		name: "audit",
		flags: func(fs *flag.FlagSet) {
			flags = fs
			fs.StringVar(&path, "audit", cfg.AuditFile,
				"append-only, keyed and hash-chained audit `FILE` (check it with auditverify -keys FILE.key -rotated FILE); "+
					"{instance} in it is replaced by the instance id, one file per replica (audit/{instance}.jsonl; check them all with auditverify -dir audit)")
			fs.StringVar(&keyFile, "audit-key", "",
				"audit keyring `FILE` (kid:secret lines, oldest first, mode 0600; default $"+audit.EnvKey+", else AUDIT.key, created if missing)")
			fs.StringVar(&witnessFile, "audit-witness", "",
				"also append the audit log's checkpoints to this `FILE`, kept where the audit file's writers cannot rewrite it")
		},
		check: func() error {
			if strings.TrimSpace(path) == "" {
				return errors.New("-audit: an audit file is required; every call is recorded before it runs")
			}
			return nil
		},
		setup: func(ctx context.Context, e *env) ([]mcpkit.Option, func(context.Context) error, error) {
			log := e.logger
			var stops []func(context.Context) error
			cleanup := func(ctx context.Context) error {
				var errs []error
				for i := len(stops) - 1; i >= 0; i-- {
					errs = append(errs, stops[i](ctx))
				}
				return errors.Join(errs...)
			}
			if e.shared != nil && !strings.Contains(path, instanceVar) && !given(flags, "audit") {
				path = fleetAuditPath(path)
			}
			id := e.instance
			if id == "" {
				id = audit.DefaultInstance(path)
			}
			file := strings.ReplaceAll(path, instanceVar, id)
			// The key of a fleet's files is one: created beside the
			// template's name, not beside one replica's file.
			keys, err := auditKeys(strings.ReplaceAll(path, instanceVar, "fleet"), keyFile, e.io.Getenv, log)
			if err != nil {
				return nil, nil, err
			}
			var tel *Telemetry
			if cfg.Telemetry != nil {
				if tel, err = cfg.Telemetry(ctx, cfg.Name, cfg.Version); err != nil {
					return nil, nil, fmt.Errorf("telemetry: %w", err)
				}
				if tel != nil && tel.Shutdown != nil {
					// Last: the sinks drain into the providers first.
					stops = append(stops, tel.Shutdown)
				}
			}
			fopts := []audit.FileOption{audit.WithKeyring(keys), audit.WithFileLogger(log), audit.WithServerInfo(cfg.Name, cfg.Version), audit.WithInstance(id)}
			if witnessFile != "" {
				witness, err := audit.NewFileWitness(witnessFile)
				if err != nil {
					return nil, cleanup, err
				}
				stops = append(stops, func(context.Context) error { return witness.Close() })
				fopts = append(fopts, audit.WithWitness(witness))
			}
			if tel != nil && tel.LoggerProvider != nil {
				fopts = append(fopts, audit.WithWitness(audit.OTelWitness(tel.LoggerProvider)))
			}
			sinkFile, err := audit.Open(file, fopts...)
			if err != nil {
				return nil, cleanup, err
			}
			log.Info("audit: writing", "file", file, "instance", id)
			if rc := sinkFile.Recovered(); rc.Records > 0 || rc.TornBytes > 0 {
				log.Info("audit: resuming chain", "file", file, "after_seq", rc.LastSeq, "torn_bytes", rc.TornBytes)
			}
			sinks := []audit.Sink{sinkFile}
			opts := []audit.Option{audit.WithLogger(log)}
			if tel != nil {
				if tel.LoggerProvider != nil {
					// Behind a queue: the file is the write-ahead record;
					// the collector copy must not slow calls.
					async, err := audit.NewAsync(audit.OTelLogSink(tel.LoggerProvider))
					if err != nil {
						return nil, cleanup, err
					}
					sinks = append(sinks, async)
				}
				if tel.TracerProvider != nil {
					opts = append(opts, audit.WithTracerProvider(tel.TracerProvider))
				}
				if tel.MeterProvider != nil {
					opts = append(opts, audit.WithMeterProvider(tel.MeterProvider))
				}
				log.Info("audit: exporting telemetry", "traces", tel.TracerProvider != nil, "metrics", tel.MeterProvider != nil, "logs", tel.LoggerProvider != nil)
			}
			sink := audit.Fanout(sinks...)
			if auditor, err = audit.New(sink, opts...); err != nil {
				return nil, cleanup, err
			}
			// The last refusal summaries first, then the sinks.
			stops = append(stops, func(ctx context.Context) error { return errors.Join(auditor.Close(ctx), audit.Close(ctx, sink)) })
			e.auditor, e.telemetry = auditor, tel
			return []mcpkit.Option{mcpkit.WithMiddleware(auditor.Middleware())}, cleanup, nil
		},
		// Every MCP method (initialize, tools/list, ...) gets its span and
		// metric point, and sessions their duration.
		started: func(srv *mcpkit.Server) func() {
			if auditor != nil {
				auditor.Instrument(srv.MCPServer())
			}
			return nil
		},
	}
}

// instanceVar in -audit is replaced by the instance id.
const instanceVar = "{instance}"

// fleetAuditPath is a fleet's default for the audit file path: a
// directory named after it, one file per instance (x-audit.jsonl becomes
// x-audit/{instance}.jsonl).
func fleetAuditPath(path string) string {
	return filepath.Join(strings.TrimSuffix(path, filepath.Ext(path)), instanceVar+".jsonl")
}

// given reports whether the flag name was set on the command line.
func given(fs *flag.FlagSet, name string) bool {
	set := false
	if fs != nil {
		fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	}
	return set
}

// auditKeys loads the audit keyring: from keyFile, else from
// $MCPKIT_AUDIT_KEY, else from (or into) AUDIT.key.
func auditKeys(auditPath, keyFile string, getenv func(string) string, log *slog.Logger) (*audit.Keyring, error) {
	if keyFile != "" {
		return audit.ReadKeyFile(keyFile)
	}
	if v := getenv(audit.EnvKey); strings.TrimSpace(v) != "" {
		k, err := audit.ParseKeyring(v)
		if err != nil {
			return nil, fmt.Errorf("%w (from $%s)", err, audit.EnvKey)
		}
		return k, nil
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
