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
	"github.com/mcpkit-go/mcpkit/mcpkittest"
	"github.com/mcpkit-go/mcpkit/serve"
)

// plantedToken is a credential an engineer pasted into an incident note:
// a reader of the incident receives it as written, the audit log never
// holds it.
const plantedToken = "ghp_0123456789abcdefghijABCDEFGHIJ012345"

// surfaceOf lists what cs may read and get: resource URIs, template URIs
// and prompt names, and whether each list was marked private.
type surfaceOf struct {
	resources, templates, prompts []string
	private                       []bool
}

func listSurface(t *testing.T, cs *mcp.ClientSession) surfaceOf {
	t.Helper()
	ctx := context.Background()
	var s surfaceOf
	rl, err := cs.ListResources(ctx, nil)
	require.NoError(t, err)
	for _, r := range rl.Resources {
		s.resources = append(s.resources, r.URI)
	}
	tl, err := cs.ListResourceTemplates(ctx, nil)
	require.NoError(t, err)
	for _, r := range tl.ResourceTemplates {
		s.templates = append(s.templates, r.URITemplate)
	}
	pl, err := cs.ListPrompts(ctx, nil)
	require.NoError(t, err)
	for _, p := range pl.Prompts {
		s.prompts = append(s.prompts, p.Name)
	}
	s.private = []bool{rl.CacheScope == mcpkit.CacheScopePrivate, tl.CacheScope == mcpkit.CacheScopePrivate, pl.CacheScope == mcpkit.CacheScopePrivate}
	return s
}

func rpcErr(t *testing.T, err error) *jsonrpc.Error {
	t.Helper()
	var we *jsonrpc.Error
	require.Error(t, err)
	require.True(t, errors.As(err, &we), "want a JSON-RPC error, got %T: %v", err, err)
	return we
}

// readOK reads uri and decodes its one JSON text into out.
func readOK(t *testing.T, cs *mcp.ClientSession, uri string, out any) *mcp.ResourceContents {
	t.Helper()
	res, err := cs.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: uri})
	require.NoError(t, err, uri)
	require.Len(t, res.Contents, 1)
	c := res.Contents[0]
	assert.Equal(t, uri, c.URI)
	assert.Equal(t, "application/json", c.MIMEType)
	require.NoError(t, json.Unmarshal([]byte(c.Text), out), c.Text)
	return c
}

// waitAudit reads the audit file until it holds at least n records.
func waitAudit(t *testing.T, path string, n int) []audit.Record {
	t.Helper()
	var recs []audit.Record
	require.Eventually(t, func() bool {
		recs = servertest.ReadAudit(t, path)
		return len(recs) >= n
	}, 5*time.Second, 20*time.Millisecond, "%d audit records", n)
	return recs
}

// opsOf renders records as "subject operation target outcome" lines.
func opsOf(recs []audit.Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, strings.Join([]string{r.Principal.Subject, r.Operation, r.Target, r.Outcome}, " "))
	}
	return out
}

// TestResourcesAndPromptOverStdioBinary runs the built example twice over
// stdio with the go-sdk client: the local user with the default scopes
// lists, reads and gets; with -scopes incidents:write (no read scope) the
// same user sees none of them and every read and get is refused. Each
// request is in the audit file with its operation, target and outcome.
func TestResourcesAndPromptOverStdioBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the example binary")
	}
	bin := buildExample(t)
	play := func(t *testing.T, extra ...string) (*mcp.ClientSession, string, func()) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		auditFile := filepath.Join(t.TempDir(), "audit.jsonl")
		cmd := exec.CommandContext(ctx, bin, append([]string{"-audit", auditFile}, extra...)...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		cs, err := mcp.NewClient(&mcp.Implementation{Name: "stdio-test", Version: "1"}, nil).Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
		require.NoError(t, err)
		return cs, auditFile, func() {
			require.NoError(t, cs.Close(), "stderr:\n%s", stderr.String())
			cancel()
		}
	}
	ctx := context.Background()

	t.Run("reader", func(t *testing.T) {
		cs, auditFile, done := play(t)
		s := listSurface(t, cs)
		assert.Equal(t, []string{"incidents://index"}, s.resources)
		assert.Equal(t, []string{"incident://{id}"}, s.templates)
		assert.Equal(t, []string{"postmortem"}, s.prompts)

		var index []IndexEntry
		readOK(t, cs, "incidents://index", &index)
		require.Len(t, index, 50)
		assert.Equal(t, IndexEntry{ID: "INC-1001", URI: "incident://INC-1001", Title: index[0].Title, Service: index[0].Service,
			Severity: index[0].Severity, Status: index[0].Status}, index[0])
		var inc Incident
		readOK(t, cs, index[1].URI, &inc)
		assert.Equal(t, "INC-1002", inc.ID)
		assert.NotEmpty(t, inc.Notes)

		pr, err := cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "postmortem", Arguments: map[string]string{"id": "INC-1002", "audience": "leadership"}})
		require.NoError(t, err)
		require.Len(t, pr.Messages, 2)
		emb, ok := pr.Messages[0].Content.(*mcp.EmbeddedResource)
		require.True(t, ok, "the incident travels as an embedded resource: %T", pr.Messages[0].Content)
		assert.Equal(t, "incident://INC-1002", emb.Resource.URI)
		assert.Contains(t, emb.Resource.Text, inc.Title)
		assert.Contains(t, pr.Messages[1].Content.(*mcp.TextContent).Text, "customer impact")

		_, err = cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "incident://INC-0000"})
		we := rpcErr(t, err)
		assert.Equal(t, "resource not found: incident://INC-0000", we.Message)
		assert.Equal(t, int64(jsonrpc.CodeInvalidParams), we.Code, "a missing incident answers the protocol's resource-not-found code")
		_, err = cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "incident://1002"})
		we = rpcErr(t, err)
		assert.Equal(t, int64(jsonrpc.CodeInvalidParams), we.Code)
		assert.Contains(t, we.Message, "arguments.id: must match the pattern")
		_, err = cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "postmortem", Arguments: map[string]string{"id": "INC-1002", "audience": "board"}})
		assert.Contains(t, rpcErr(t, err).Message, `arguments.audience: must be one of "engineering", "leadership"`)
		_, err = cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "file:///etc/passwd"})
		assert.Equal(t, int64(jsonrpc.CodeInvalidParams), rpcErr(t, err).Code)
		done()

		assert.Equal(t, []string{
			"local resources/read incidents://index ok",
			"local resources/read incident://INC-1002 ok",
			"local prompts/get postmortem ok",
			"local resources/read incident://INC-0000 tool_error",
			"local resources/read incident://1002 invalid_input",
			"local prompts/get postmortem invalid_input",
			"local resources/read file:///etc/passwd unknown_resource",
		}, opsOf(subjectLocal(servertest.ReadAudit(t, auditFile))))
		_, err = servertest.VerifyAudit(t, auditFile)
		assert.NoError(t, err)
	})

	t.Run("without the read scope", func(t *testing.T) {
		cs, auditFile, done := play(t, "-scopes", ScopeWrite)
		s := listSurface(t, cs)
		assert.Empty(t, s.resources)
		assert.Empty(t, s.templates)
		assert.Empty(t, s.prompts)
		_, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "incident://INC-1001"})
		we := rpcErr(t, err)
		assert.Equal(t, mcpkit.RefusedRPCCode, we.Code)
		assert.Equal(t, "resource incident requires scope incidents:read, which your credentials do not grant", we.Message)
		_, err = cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "incidents://index"})
		assert.Contains(t, rpcErr(t, err).Message, "requires scope incidents:read")
		_, err = cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "postmortem", Arguments: map[string]string{"id": "INC-1001"}})
		assert.Equal(t, "prompt postmortem requires scope incidents:read, which your credentials do not grant", rpcErr(t, err).Message)
		done()
		recs := subjectLocal(servertest.ReadAudit(t, auditFile))
		assert.Equal(t, []string{
			"local resources/read incident://INC-1001 denied_scope",
			"local resources/read incidents://index denied_scope",
			"local prompts/get postmortem denied_scope",
		}, opsOf(recs))
		for _, r := range recs {
			assert.Contains(t, string(r.Result), `"is_error":true`, "only the refusal was returned")
			assert.NotContains(t, string(r.Result), "created_at", "no incident was returned")
		}
	})
}

// subjectLocal replaces the local user's name (the OS user running the
// test) with "local", so that expectations do not depend on who runs them.
func subjectLocal(recs []audit.Record) []audit.Record {
	for i := range recs {
		if recs[i].Principal.Auth == "local" {
			recs[i].Principal.Subject = "local"
		}
	}
	return recs
}

// countingHTTP runs the whole program in-process over HTTP (as main does)
// with a counter just in front of the handlers: it counts the reads and
// gets that got past every gate.
func countingHTTP(t *testing.T, args ...string) (string, *atomic.Int64) {
	t.Helper()
	ran := &atomic.Int64{}
	cfg := serverConfig()
	cfg.Options = append(cfg.Options, mcpkit.WithInnerMiddleware(func(next mcpkit.Handler) mcpkit.Handler {
		return func(ctx context.Context, c *mcpkit.Call) (*mcp.CallToolResult, error) {
			if c.Operation == mcpkit.OpReadResource || c.Operation == mcpkit.OpGetPrompt {
				ran.Add(1)
			}
			return next(ctx, c)
		}
	}))
	base := servertest.StartHTTP(t, func(ctx context.Context, args []string, stderr io.Writer) error {
		return serve.Run(ctx, cfg, args, serve.IO{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: stderr})
	}, args...)
	return base, ran
}

// TestResourcesAndPromptOverHTTP: over streamable HTTP with the example's
// static tokens, at 2025-11-25 and 2026-07-28, bob (incidents:read) and
// mallory (no scope) see different resources and prompts (lists marked
// private); mallory's reads and gets are refused before any handler runs;
// an unknown URI carrying a credential is refused and redacted in the
// record; every read and get is audited.
func TestResourcesAndPromptOverHTTP(t *testing.T) {
	for _, version := range []string{"2025-11-25", "2026-07-28"} {
		t.Run(version, func(t *testing.T) {
			auditFile := filepath.Join(t.TempDir(), "audit.jsonl")
			base, ran := countingHTTP(t, "-tokens", "testdata/tokens.json", "-audit", auditFile)
			ctx := context.Background()

			bob := connectAt(t, base, bobDevToken, version)
			mallory := connectAt(t, base, malloryDevToken, version)
			sb, sm := listSurface(t, bob), listSurface(t, mallory)
			assert.Equal(t, []string{"incidents://index"}, sb.resources)
			assert.Equal(t, []string{"incident://{id}"}, sb.templates)
			assert.Equal(t, []string{"postmortem"}, sb.prompts)
			assert.Empty(t, sm.resources)
			assert.Empty(t, sm.templates)
			assert.Empty(t, sm.prompts)
			if version == "2026-07-28" {
				assert.Equal(t, []bool{true, true, true}, sb.private, "lists filtered per caller are cacheScope private")
				assert.Equal(t, []bool{true, true, true}, sm.private)
			}

			var inc Incident
			readOK(t, bob, "incident://INC-1001", &inc)
			assert.Equal(t, "INC-1001", inc.ID)
			_, err := bob.GetPrompt(ctx, &mcp.GetPromptParams{Name: "postmortem", Arguments: map[string]string{"id": "INC-1001"}})
			require.NoError(t, err)
			assert.EqualValues(t, 2, ran.Load())

			_, err = mallory.ReadResource(ctx, &mcp.ReadResourceParams{URI: "incident://INC-1001"})
			require.Error(t, err)
			assert.Contains(t, err.Error(), "requires scope incidents:read")
			_, err = mallory.GetPrompt(ctx, &mcp.GetPromptParams{Name: "postmortem", Arguments: map[string]string{"id": "INC-1001"}})
			require.Error(t, err)
			assert.Contains(t, err.Error(), "requires scope incidents:read")
			assert.EqualValues(t, 2, ran.Load(), "no handler ran for mallory")

			_, err = bob.ReadResource(ctx, &mcp.ReadResourceParams{URI: "vault://deploy/" + plantedToken})
			require.Error(t, err)
			assert.EqualValues(t, 2, ran.Load())

			recs := waitAudit(t, auditFile, 5)
			assert.Equal(t, []string{
				"bob resources/read incident://INC-1001 ok",
				"bob prompts/get postmortem ok",
				"mallory resources/read incident://INC-1001 denied_scope",
				"mallory prompts/get postmortem denied_scope",
			}, opsOf(recs[:4]))
			unknown := recs[4]
			assert.Equal(t, "unknown_resource", unknown.Outcome)
			assert.Equal(t, "resources/read", unknown.Operation)
			assert.True(t, strings.HasPrefix(unknown.Target, "vault://"), unknown.Target)
			for _, r := range recs {
				assert.Equal(t, "static", r.Principal.Auth)
			}
			raw, err := os.ReadFile(auditFile)
			require.NoError(t, err)
			assert.NotContains(t, string(raw), plantedToken, "the credential in the URI never reaches the audit file")
			_, err = servertest.VerifyAudit(t, auditFile)
			assert.NoError(t, err)
		})
	}
}

// TestIncidentSecretsAreRedactedInTheAuditRecord: an incident note holding
// a credential reaches the reader of incident://{id} and of the postmortem
// prompt as written, and neither audit record holds it.
func TestIncidentSecretsAreRedactedInTheAuditRecord(t *testing.T) {
	store, err := NewStore(time.Now)
	require.NoError(t, err)
	store.incidents[0].Notes = append(store.incidents[0].Notes, "Rotated the deploy token "+plantedToken+" after the rollback.")
	id := store.incidents[0].ID
	auditFile := filepath.Join(t.TempDir(), "audit.jsonl")
	srv, closeSrv := setUp(t, store, mcpkit.Identity{Subject: "bob", Scopes: []string{ScopeRead}, AuthMethod: "local"}, "-audit", auditFile)
	cs := mcpkittest.NewHarness(t, srv).Session

	var inc Incident
	c := readOK(t, cs, incidentURI(id), &inc)
	assert.Contains(t, c.Text, plantedToken, "the reader gets the record as written")
	pr, err := cs.GetPrompt(context.Background(), &mcp.GetPromptParams{Name: "postmortem", Arguments: map[string]string{"id": id}})
	require.NoError(t, err)
	assert.Contains(t, pr.Messages[0].Content.(*mcp.EmbeddedResource).Resource.Text, plantedToken)
	require.NoError(t, closeSrv(context.Background()))

	recs := servertest.ReadAudit(t, auditFile)
	require.Len(t, recs, 2)
	for _, r := range recs {
		assert.Equal(t, "ok", r.Outcome, r.Operation)
		require.NotEmpty(t, r.Result, "the record keeps what was returned, redacted")
		assert.Contains(t, string(r.Result), "[REDACTED", r.Operation)
		assert.Contains(t, string(r.Result), "Rotated the deploy token", r.Operation)
	}
	raw, err := os.ReadFile(auditFile)
	require.NoError(t, err)
	assert.NotContains(t, string(raw), plantedToken)
}

// TestPostmortemFlag: the shipped flags.json rolls the postmortem prompt
// out to the sre group only; everyone else neither lists nor gets it, and
// the resources stay on.
func TestPostmortemFlag(t *testing.T) {
	store, err := NewStore(time.Now)
	require.NoError(t, err)
	for _, tc := range []struct {
		id   mcpkit.Identity
		want []string
	}{
		{mcpkit.Identity{Subject: "bob", Scopes: []string{ScopeRead}}, nil},
		{mcpkit.Identity{Subject: "carol", Groups: []string{"sre"}, Scopes: []string{ScopeRead}}, []string{"postmortem"}},
	} {
		auditFile := filepath.Join(t.TempDir(), "audit.jsonl")
		srv, closeSrv := setUp(t, store, tc.id, "-flags", "flags.json", "-audit", auditFile)
		cs := mcpkittest.NewHarness(t, srv).Session
		s := listSurface(t, cs)
		assert.Equal(t, tc.want, s.prompts, tc.id.Subject)
		assert.Equal(t, []string{"incident://{id}"}, s.templates, tc.id.Subject)
		_, err := cs.GetPrompt(context.Background(), &mcp.GetPromptParams{Name: "postmortem", Arguments: map[string]string{"id": "INC-1001"}})
		require.NoError(t, closeSrv(context.Background()))
		recs := servertest.ReadAudit(t, auditFile)
		require.Len(t, recs, 1)
		if tc.want == nil {
			assert.Contains(t, rpcErr(t, err).Message, "prompt.postmortem")
			assert.Equal(t, "denied_flag", recs[0].Outcome)
			continue
		}
		assert.NoError(t, err)
		assert.Equal(t, "ok", recs[0].Outcome)
	}
}
