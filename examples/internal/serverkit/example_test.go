package serverkit_test

import (
	"fmt"

	"github.com/mcpkit-go/mcpkit/examples/internal/serverkit"
)

// A server's approval secrets are read from variables named after it.
func ExampleConfig_ApprovalKeysEnv() {
	cfg := serverkit.Config{Name: "tickets", Version: "0.1.0"}
	fmt.Println(cfg.ApprovalKeysEnv())
	fmt.Println(cfg.ApproverTokensEnv())
	// Output:
	// TICKETS_APPROVAL_KEYS
	// TICKETS_APPROVER_TOKENS
}

// Every server built on serverkit has the same command line.
func ExampleFlagSet() {
	fs := serverkit.FlagSet(serverkit.Config{Name: "tickets", Version: "0.1.0", Scopes: []string{"tickets:read"}})
	err := fs.Parse([]string{"-http", "127.0.0.1:8080", "-tokens", "tokens.json", "-approver", "console", "-console", "127.0.0.1:8081"})
	fmt.Println(err, fs.Lookup("audit").DefValue, fs.Lookup("scopes").DefValue)
	// Output:
	// <nil> tickets-audit.jsonl tickets:read
}
