// Package otlp exports a serve server's telemetry over OTLP/HTTP, configured
// by the standard OpenTelemetry environment variables. It is its own module,
// so that only servers that want exporters link them:
//
//	serve.Main(serve.Config{
//		Name: "tickets", Version: "0.1.0", Tools: registerTools,
//		Telemetry: otlp.FromEnv,
//	})
//
// FromEnv turns a signal on when its endpoint is set:
// OTEL_EXPORTER_OTLP_ENDPOINT for traces, metrics and logs, or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, _METRICS_ENDPOINT, _LOGS_ENDPOINT
// one by one. With none set (or OTEL_SDK_DISABLED=true) it returns nil and
// the server exports nothing. The exporters read the other
// OTEL_EXPORTER_OTLP_* variables themselves (headers, timeout,
// compression, certificates); OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES override and extend the resource, which
// defaults to the server's name and version.
//
// Only the http/protobuf protocol is linked: OTEL_EXPORTER_OTLP_PROTOCOL
// (or a signal's own) set to grpc or http/json is an error at startup,
// not a silent fallback.
//
// Failure: an exporter or resource that cannot be built stops the server
// before it serves. At run time a collector that is down costs nothing but
// the exporters' bounded retries: spans, metrics and logs are batched off
// the call path, and the audit file stays the record.
package otlp
