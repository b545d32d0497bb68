package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/examples/internal/servertest"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/serve"
)

// carolDevToken holds db:query only: she may run SQL but not browse the
// catalog, so she sees no schema resources.
const carolDevToken = "dev-carol-0123456789abcdef"

// secretValue is the fixture's secret.api_keys row; no resource may show
// it, nor the table it lives in.
const secretValue = "sk-live-TOPSECRET"

func resourceURIs(t *testing.T, cs *mcp.ClientSession) (resources, templates []string, private bool) {
	t.Helper()
	ctx := context.Background()
	rl, err := cs.ListResources(ctx, nil)
	require.NoError(t, err)
	for _, r := range rl.Resources {
		resources = append(resources, r.URI)
	}
	tl, err := cs.ListResourceTemplates(ctx, nil)
	require.NoError(t, err)
	for _, r := range tl.ResourceTemplates {
		templates = append(templates, r.URITemplate)
	}
	return resources, templates, rl.CacheScope == mcpkit.CacheScopePrivate && tl.CacheScope == mcpkit.CacheScopePrivate
}

func readJSON(t *testing.T, cs *mcp.ClientSession, uri string, out any) {
	t.Helper()
	res, err := cs.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: uri})
	require.NoError(t, err, uri)
	require.Len(t, res.Contents, 1)
	assert.Equal(t, uri, res.Contents[0].URI)
	assert.Equal(t, "application/json", res.Contents[0].MIMEType)
	require.NoError(t, json.Unmarshal([]byte(res.Contents[0].Text), out))
}

func rpcErr(t *testing.T, err error) *jsonrpc.Error {
	t.Helper()
	var we *jsonrpc.Error
	require.Error(t, err)
	require.True(t, errors.As(err, &we), "want a JSON-RPC error, got %T: %v", err, err)
	return we
}

// playSchemaResources reads as a caller holding db:read: the index lists
// the shop's tables and nothing of the secret schema, a table's schema
// reads by URI, and the secret table, a hostile name and an unknown URI
// are refused without a trace of the secret. It returns the targets and
// outcomes the audit log must show, in order.
func playSchemaResources(t *testing.T, cs *mcp.ClientSession) []string {
	t.Helper()
	ctx := context.Background()
	var tables []TableEntry
	readJSON(t, cs, "postgres://tables", &tables)
	var names []string
	for _, e := range tables {
		names = append(names, e.Schema+"."+e.Table+" "+e.Kind+" "+e.URI)
	}
	assert.Equal(t, []string{
		"shop.customers table postgres://schema/shop/customers",
		"shop.order_totals view postgres://schema/shop/order_totals",
		"shop.orders table postgres://schema/shop/orders",
	}, names, "only what the role may read; nothing of the secret schema")

	var orders DescribeTableOut
	readJSON(t, cs, "postgres://schema/shop/orders", &orders)
	assert.Equal(t, []string{"id"}, orders.PrimaryKey)
	require.Len(t, orders.ForeignKeys, 1)
	assert.Equal(t, "customers", orders.ForeignKeys[0].ReferencesTable)

	var seen strings.Builder
	for _, uri := range []string{"postgres://schema/secret/api_keys", "postgres://schema/pg_catalog/pg_authid"} {
		_, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: uri})
		we := rpcErr(t, err)
		assert.Contains(t, we.Message, "not found, or this server's database role may not read it", uri)
		seen.WriteString(we.Message)
	}
	_, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: `postgres://schema/shop/orders%22%3B%20DROP%20TABLE%20shop.orders%3B--`})
	assert.Contains(t, rpcErr(t, err).Message, "not found")
	_, err = cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "postgres://schema/shop/.."})
	assert.Equal(t, int64(jsonrpc.CodeInvalidParams), rpcErr(t, err).Code)
	_, err = cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "postgres://schema/secret"})
	assert.Equal(t, int64(jsonrpc.CodeInvalidParams), rpcErr(t, err).Code, "an unknown URI")
	assert.NotContains(t, seen.String(), secretValue)
	return []string{
		"resources/read postgres://tables ok",
		"resources/read postgres://schema/shop/orders ok",
		"resources/read postgres://schema/secret/api_keys tool_error",
		"resources/read postgres://schema/pg_catalog/pg_authid tool_error",
		`resources/read postgres://schema/shop/orders%22%3B%20DROP%20TABLE%20shop.orders%3B-- tool_error`,
		"resources/read postgres://schema/shop/.. invalid_input",
		"resources/read postgres://schema/secret unknown_resource",
	}
}

func targetsOf(recs []audit.Record) []string {
	var out []string
	for _, r := range recs {
		if r.Operation == "resources/read" {
			out = append(out, r.Operation+" "+r.Target+" "+r.Outcome)
		}
	}
	return out
}

// countingHTTP runs the whole program over HTTP as the reader role, with a
// counter just in front of the handlers: reads that got past every gate.
func countingHTTP(t *testing.T, c *cluster, args ...string) (string, *atomic.Int64) {
	t.Helper()
	ran := &atomic.Int64{}
	getenv := func(k string) string {
		if k == envDatabaseURL {
			return c.readerURL()
		}
		return ""
	}
	return servertest.StartHTTP(t, func(ctx context.Context, args []string, stderr io.Writer) error {
		a := newApp(getenv)
		cfg := a.serverConfig()
		cfg.Options = append(cfg.Options, mcpkit.WithInnerMiddleware(func(next mcpkit.Handler) mcpkit.Handler {
			return func(ctx context.Context, c *mcpkit.Call) (*mcp.CallToolResult, error) {
				if c.Operation == mcpkit.OpReadResource {
					ran.Add(1)
				}
				return next(ctx, c)
			}
		}))
		return serve.Run(ctx, cfg, args, serve.IO{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: stderr, Getenv: getenv})
	}, args...), ran
}

// TestSchemaResourcesOverHTTP: over streamable HTTP with the static tokens,
// at 2025-11-25 and 2026-07-28, bob (db:read) lists and reads the table
// schemas of what the role may read and never the secret schema; carol
// (db:query only) sees no resource and her read is refused before the
// handler runs; every read is audited with its target and outcome.
func TestSchemaResourcesOverHTTP(t *testing.T) {
	c := needPG(t)
	for _, version := range []string{"2025-11-25", "2026-07-28"} {
		t.Run(version, func(t *testing.T) {
			auditFile := filepath.Join(t.TempDir(), "audit.jsonl")
			base, ran := countingHTTP(t, c, "-tokens", "testdata/tokens.json", "-audit", auditFile)
			connect := func(token string) *mcp.ClientSession {
				cs, err := mcp.NewClient(&mcp.Implementation{Name: "http-test", Version: "1"}, nil).Connect(context.Background(),
					&mcp.StreamableClientTransport{Endpoint: base + "/mcp", HTTPClient: servertest.TokenClient(token)},
					&mcp.ClientSessionOptions{ProtocolVersion: version})
				require.NoError(t, err)
				t.Cleanup(func() { _ = cs.Close() })
				return cs
			}
			bob, carol := connect(bobDevToken), connect(carolDevToken)
			res, tmpl, private := resourceURIs(t, bob)
			assert.Equal(t, []string{"postgres://tables"}, res)
			assert.Equal(t, []string{"postgres://schema/{schema}/{table}"}, tmpl)
			if version == "2026-07-28" {
				assert.True(t, private, "lists filtered per caller are cacheScope private")
			}
			res, tmpl, _ = resourceURIs(t, carol)
			assert.Empty(t, res)
			assert.Empty(t, tmpl)

			want := playSchemaResources(t, bob)
			runs := ran.Load()
			_, err := carol.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: "postgres://schema/shop/orders"})
			require.Error(t, err)
			assert.Contains(t, err.Error(), "requires scope db:read")
			assert.Equal(t, runs, ran.Load(), "no handler ran for carol")

			recs := servertest.ReadAudit(t, auditFile)
			require.Eventually(t, func() bool {
				recs = servertest.ReadAudit(t, auditFile)
				return len(targetsOf(recs)) >= len(want)+1
			}, 5*time.Second, 20*time.Millisecond)
			assert.Equal(t, append(want, "resources/read postgres://schema/shop/orders denied_scope"), targetsOf(recs))
			assert.Equal(t, "carol", recs[len(recs)-1].Principal.Subject)
			raw, err := os.ReadFile(auditFile)
			require.NoError(t, err)
			assert.NotContains(t, string(raw), secretValue)
			assert.NotContains(t, string(raw), c.password)
			_, err = servertest.VerifyAudit(t, auditFile)
			assert.NoError(t, err)
		})
	}
}

// playStdioResources runs the built binary over stdio twice: with the
// default scopes the local user reads the schemas (never the secret
// schema's), with -scopes db:query the resources are hidden and refused.
func playStdioResources(t *testing.T, bin string, c *cluster) {
	t.Helper()
	for _, withRead := range []bool{true, false} {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		auditFile := filepath.Join(t.TempDir(), "audit.jsonl")
		args := []string{"-audit", auditFile}
		if !withRead {
			args = append(args, "-scopes", ScopeQuery)
		}
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = append(os.Environ(), envDatabaseURL+"="+c.readerURL())
		var stderr strings.Builder
		cmd.Stderr = &stderr
		cs, err := mcp.NewClient(&mcp.Implementation{Name: "stdio-test", Version: "1"}, nil).Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
		require.NoError(t, err)
		var want []string
		if withRead {
			res, tmpl, _ := resourceURIs(t, cs)
			assert.Equal(t, []string{"postgres://tables"}, res)
			assert.Equal(t, []string{"postgres://schema/{schema}/{table}"}, tmpl)
			want = playSchemaResources(t, cs)
		} else {
			res, tmpl, _ := resourceURIs(t, cs)
			assert.Empty(t, res)
			assert.Empty(t, tmpl)
			_, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "postgres://tables"})
			assert.Equal(t, "resource tables requires scope db:read, which your credentials do not grant", rpcErr(t, err).Message)
			want = []string{"resources/read postgres://tables denied_scope"}
		}
		require.NoError(t, cs.Close(), "stderr:\n%s", stderr.String())
		cancel()
		recs := servertest.ReadAudit(t, auditFile)
		assert.Equal(t, want, targetsOf(recs))
		raw, err := os.ReadFile(auditFile)
		require.NoError(t, err)
		assert.NotContains(t, string(raw), secretValue)
	}
}
