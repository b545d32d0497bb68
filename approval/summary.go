package approval

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"text/template"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// maxSummaryArgs bounds how many arguments the default summary lists.
const maxSummaryArgs = 8

// canonicalArguments parses raw arguments and re-encodes them with sorted
// keys and numbers kept as written, so that the same call always has the
// same digest.
func canonicalArguments(raw json.RawMessage) (any, []byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		raw = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, nil, fmt.Errorf("arguments: %w", err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, nil, fmt.Errorf("arguments: %w", err)
	}
	return v, b, nil
}

// argumentsDigest is the hex SHA-256 of the canonical arguments.
func argumentsDigest(canonical []byte) string {
	sum := sha256.Sum256(canonical)
	return hex.EncodeToString(sum[:])
}

// summaryData is what a summary template sees.
type summaryData struct {
	Tool      string
	Title     string
	Principal mcpkit.Identity
	// Arguments are the redacted arguments, as the audit record has them.
	Arguments map[string]any
	// Input is the decoded input value (unredacted: a template must not
	// print a secret field).
	Input any
	Rule  string
}

// defaultSummary says who wants to run what, with which arguments.
func defaultSummary(d summaryData) string {
	var b strings.Builder
	who := d.Principal.Subject
	if who == "" {
		who = "an unauthenticated caller"
	}
	name := d.Tool
	if d.Title != "" {
		name = fmt.Sprintf("%s (%s)", d.Title, d.Tool)
	}
	fmt.Fprintf(&b, "%s wants to run %s", who, name)
	keys := make([]string, 0, len(d.Arguments))
	for k := range d.Arguments {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) > 0 {
		b.WriteString(" with ")
		for i, k := range keys {
			if i == maxSummaryArgs {
				fmt.Fprintf(&b, ", and %d more", len(keys)-i)
				break
			}
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s=%s", k, shortJSON(d.Arguments[k]))
		}
	}
	fmt.Fprintf(&b, ". Approval rule: %s.", d.Rule)
	return b.String()
}

// shortJSON renders a value for a summary, bounded so that a long argument
// does not drown the sentence.
func shortJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%T", v)
	}
	const limit = 120
	if r := []rune(string(b)); len(r) > limit {
		return string(r[:limit]) + "…"
	}
	return string(b)
}

// renderSummary runs t, falling back to the default summary when the
// template fails (a summary must never block a decision).
func renderSummary(t *template.Template, d summaryData) string {
	if t == nil {
		return defaultSummary(d)
	}
	var b strings.Builder
	if err := t.Execute(&b, d); err != nil || strings.TrimSpace(b.String()) == "" {
		return defaultSummary(d)
	}
	return strings.TrimSpace(b.String())
}
