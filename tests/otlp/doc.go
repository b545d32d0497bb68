// Package otlp checks the audit package's telemetry end to end: real OTLP
// over HTTP from the OpenTelemetry SDK's exporters to a receiver the test
// runs, asserted against the MCP semantic conventions. It lives in the tests
// module so that the library's own module never requires an exporter.
package otlp
