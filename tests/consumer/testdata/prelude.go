// Package snippet holds the names the Go fragments of README.md and the
// package docs use without declaring them. TestSnippets compiles every
// fragment beside this file; the docs' prose says what each stands for.
package snippet

import (
	"context"
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// What a server's main has at hand.
var (
	ctx  = context.Background()
	srv  *mcpkit.Server
	impl = &mcp.Implementation{Name: "incidents", Version: version}
	mux  = http.NewServeMux()
)

// version is the server's version constant.
const version = "0.1.0"

// The audit and approval wiring: the server's auditor and audit keyring,
// the transport's authenticator for console reviewers, a 32+ byte secret,
// and a finished approval gate.
var (
	auditor      *audit.Auditor
	keys         *audit.Keyring
	authenticate approval.ReviewerResolver
	secret       []byte
	approvalGate mcpkit.Middleware
)

// The system a server exposes: a store of incidents.
var store *Store

// Store is the system behind the tools.
type Store struct{}

// Get returns one incident.
func (*Store) Get(id string) (Incident, bool) { return Incident{ID: id}, true }

// Incident is what a tool returns.
type Incident struct {
	ID string `json:"id" jsonschema:"description=Incident id"`
}

// GetIn is a tool's input.
type GetIn struct {
	ID string `json:"id" jsonschema:"description=Incident id"`
}

// RefundIn is a write tool's input.
type RefundIn struct {
	AmountUSD float64 `json:"amount_usd" jsonschema:"description=Amount in USD"`
}

// registerTools registers a server's tools (serve.Config.Tools).
func registerTools(*mcpkit.Server) error { return nil }

// newServer is a server's constructor, for the conformance suite.
func newServer(opts ...mcpkit.Option) (*mcpkit.Server, error) { return mcpkit.NewServer(impl, opts...) }

// addTools registers an embedding service's tools over its store.
func addTools(*mcpkit.Server, *Store) {}

// tel is an existing service's OpenTelemetry providers.
var tel struct {
	Traces  trace.TracerProvider
	Metrics metric.MeterProvider
	Logs    log.LoggerProvider
}

// apiKeys is an existing service's authentication.
var apiKeys interface {
	Lookup(key string) (Principal, bool)
}

// Principal is who an API key belongs to.
type Principal struct {
	Name, Team  string
	Permissions []string
}
