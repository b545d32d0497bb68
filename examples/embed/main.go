package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/audit"
)

// Environment variables (secrets stay out of flags, which show in process
// listings).
const (
	envAPIKeys      = "ORDERS_API_KEYS"      // name:team:perm+perm:key,...
	envApprovalKeys = "ORDERS_APPROVAL_KEYS" // id:base64secret,... (oldest first)
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "orders:", err)
		os.Exit(1)
	}
}

// run is main without the process: flags, telemetry, keys, service,
// serve until ctx is cancelled, then flush telemetry.
func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet(serviceName, flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8090", "listen `ADDR`ess")
	auditPath := fs.String("audit", "orders-mcp-audit.jsonl", "keyed, hash-chained audit `FILE` of MCP tool calls (check it: go run ./audit/cmd/auditverify -keys FILE.key -rotated FILE)")
	auditKey := fs.String("audit-key", "", "audit keyring `FILE` (default $"+audit.EnvKey+", else AUDIT.key, created if missing)")
	shutdown := fs.Duration("shutdown-timeout", 10*time.Second, "how long in-flight requests may run after SIGINT/SIGTERM")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))

	tel, exporting, err := NewTelemetry(ctx)
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tel.Shutdown(sctx); err != nil {
			log.Warn("telemetry shutdown", "error", err)
		}
	}()
	if exporting {
		log.Info("exporting traces, metrics and logs over OTLP/HTTP", "endpoint", os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT"))
	}

	keys, devKeys, err := loadAPIKeys(*addr)
	if err != nil {
		return err
	}
	approvalKeys, err := loadApprovalKeys(log)
	if err != nil {
		return err
	}
	auditKeys, err := loadAuditKeys(*auditPath, *auditKey, log)
	if err != nil {
		return err
	}
	svc, err := NewService(Config{Orders: newMemoryOrders(), Keys: keys, Telemetry: tel, AuditPath: *auditPath, AuditKeys: auditKeys,
		ApprovalKeys: approvalKeys, ShutdownTimeout: *shutdown, Logger: log})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return errors.Join(err, svc.closeAudit())
	}
	printUsage(stderr, "http://"+ln.Addr().String(), devKeys)
	return svc.Serve(ctx, ln)
}

// loadAPIKeys reads $ORDERS_API_KEYS, or on a loopback address makes two
// development keys (a reader and an operator) and returns them to print.
func loadAPIKeys(addr string) (*APIKeys, map[string]string, error) {
	if s := os.Getenv(envAPIKeys); s != "" {
		k, err := ParseAPIKeys(s)
		if err != nil {
			return nil, nil, fmt.Errorf("$%s: %w", envAPIKeys, err)
		}
		return k, nil, nil
	}
	if !loopback(addr) {
		return nil, nil, fmt.Errorf("set $%s (name:team:perm+perm:key,...): development keys are made only on a loopback address", envAPIKeys)
	}
	k := NewAPIKeys()
	dev := map[string]string{"reader": NewKey(), "operator": NewKey()}
	_ = k.Add(Principal{Name: "reader", Team: "support", Permissions: []string{PermOrdersRead}}, dev["reader"])
	_ = k.Add(Principal{Name: "operator", Team: "fulfilment", Permissions: []string{PermOrdersRead, PermOrdersWrite}}, dev["operator"])
	return k, dev, nil
}

// loadApprovalKeys reads $ORDERS_APPROVAL_KEYS; replicas must share them.
// Without it one process signs with a key of its own.
func loadApprovalKeys(log *slog.Logger) (*approval.Keyring, error) {
	keys, err := approval.ParseKeys(os.Getenv(envApprovalKeys))
	if err != nil {
		return nil, fmt.Errorf("$%s: %w", envApprovalKeys, err)
	}
	if len(keys) == 0 {
		secret := make([]byte, approval.MinKeySize)
		_, _ = rand.Read(secret)
		keys = []approval.Key{{ID: "ephemeral", Secret: secret}}
		log.Info("approval: signing prompts with an ephemeral key; set " + envApprovalKeys + " when running replicas")
	}
	return approval.NewKeyring(keys...)
}

func printUsage(w io.Writer, base string, dev map[string]string) {
	fmt.Fprintf(w, "orders service on %s (Ctrl-C to stop)\n", base)
	key := "$ORDERS_KEY"
	if dev != nil {
		key = dev["operator"]
		fmt.Fprintf(w, "development API keys (this run only):\n  reader   (orders:read)               %s\n  operator (orders:read, orders:write) %s\n",
			dev["reader"], dev["operator"])
	}
	fmt.Fprintf(w, "existing REST API:\n  curl -H 'Authorization: Bearer %s' %s/api/orders\n", key, base)
	fmt.Fprintf(w, "MCP (streamable HTTP, same key):\n  claude mcp add --transport http orders %s/mcp --header 'Authorization: Bearer %s'\n", base, key)
	fmt.Fprintf(w, "  npx @modelcontextprotocol/inspector  # URL %s/mcp, header Authorization: Bearer %s\n", base, key)
}

func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// loadAuditKeys loads the audit keyring: from keyFile, else from
// $MCPKIT_AUDIT_KEY, else from (or into) AUDIT.key, which keeps the
// example working on a fresh machine at the price of a key beside the log
// it protects.
func loadAuditKeys(auditPath, keyFile string, log *slog.Logger) (*audit.Keyring, error) {
	switch {
	case keyFile != "":
		return audit.ReadKeyFile(keyFile)
	case os.Getenv(audit.EnvKey) != "":
		return audit.KeyringFromEnv(audit.EnvKey)
	}
	keys, created, err := audit.LoadOrCreateKeyFile(auditPath + ".key")
	if created {
		log.Warn("created a new audit key next to the audit file; in production keep it elsewhere (-audit-key FILE or $"+audit.EnvKey+")",
			"key_file", auditPath+".key")
	}
	return keys, err
}
