package serve

import (
	"fmt"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// checkParamHeaderSecrets refuses a tool whose policy mirrors into an
// Mcp-Param-* header an argument the audit log masks by its name
// (password, token, api_key: audit.DefaultSecretKeys). mcpkit already
// refuses redacted and `mcpkit:"redact"` arguments at registration; this
// adds the names the audit log judges secret, which mcpkit cannot see. A
// header is visible to every proxy on the way, and none of them redacts.
func checkParamHeaderSecrets(srv *mcpkit.Server, red *audit.Redactor) error {
	if red == nil {
		return nil
	}
	for _, t := range srv.Tools() {
		for _, p := range t.ParamHeaders {
			if red.SecretKey(p.Argument) {
				return fmt.Errorf("tool %q: Policy.Headers mirrors argument %q into %s, but the audit log masks that name as a secret; a header is visible to every proxy on the way, so keep it in the body",
					t.Name, p.Argument, p.Header())
			}
		}
	}
	return nil
}
