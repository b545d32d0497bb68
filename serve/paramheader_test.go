package serve_test

import (
	"context"
	"io"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/serve"
)

type keyIn struct {
	APIKey string `json:"api_key" jsonschema:"description=Key for the upstream API"`
	Region string `json:"region" jsonschema:"description=Region"`
}

func registerKeyed(headers map[string]string) func(*mcpkit.Server) error {
	return func(srv *mcpkit.Server) error {
		return mcpkit.AddTool(srv, mcpkit.Tool{Name: "get_quota", Description: "Get the upstream quota.",
			Policy: mcpkit.Policy{Risk: mcpkit.ReadOnly, Public: true, Headers: headers}},
			func(context.Context, keyIn) (keyIn, error) { return keyIn{}, nil })
	}
}

// An argument the audit log masks by its name (api_key) is neither
// redacted in the policy nor tagged, so mcpkit registers it; mirroring it
// into a header would show the key to every proxy while the audit log
// hides it. The server refuses to start instead.
func TestParamHeaderOnAuditSecretNameRefusesToStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.jsonl")
	cfg := serve.Config{Name: "quota", Version: "1", Tools: registerKeyed(map[string]string{"api_key": "Api-Key"})}
	s, err := serve.New(context.Background(), cfg, []string{"-audit", path}, serve.IO{Stderr: io.Discard, Getenv: noEnv})
	if s != nil {
		_ = s.Close(context.Background())
	}
	require.Error(t, err)
	assert.Nil(t, s)
	assert.Contains(t, err.Error(), `Policy.Headers mirrors argument "api_key" into Mcp-Param-Api-Key`)

	cfg.Tools = registerKeyed(map[string]string{"region": "Region"})
	s, err = serve.New(context.Background(), cfg, []string{"-audit", filepath.Join(t.TempDir(), "b.jsonl")}, serve.IO{Stderr: io.Discard, Getenv: noEnv})
	require.NoError(t, err, "a name the audit log does not mask may travel as a header")
	require.NoError(t, s.Close(context.Background()))
}
