package mcpkit

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Risk says what a tool can do to the system behind it. It drives the MCP
// annotations, the default approval rule and the default flag state.
type Risk int

// Risk levels. The zero value is not a risk: every tool must declare one, so a
// reviewer never has to guess.
const (
	// ReadOnly tools observe and never change anything.
	ReadOnly Risk = iota + 1
	// Write tools change state in a way that can be undone or is additive.
	Write
	// Destructive tools delete or overwrite; they require approval by default.
	Destructive
)

// String returns the name used in POLICY.md, audit records and flag context.
func (r Risk) String() string {
	switch r {
	case ReadOnly:
		return "read_only"
	case Write:
		return "write"
	case Destructive:
		return "destructive"
	}
	return fmt.Sprintf("risk(%d)", int(r))
}

// MarshalText encodes the risk by name.
func (r Risk) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// Valid reports whether r is one of the declared risks.
func (r Risk) Valid() bool { return r >= ReadOnly && r <= Destructive }

// Policy is the documented answer to "should the agent be able to call this
// tool?". It is written once per tool; annotations, gates, approval and
// POLICY.md are all derived from it.
type Policy struct {
	// Risk is required.
	Risk Risk
	// Scopes the caller must all hold. Empty means public only if Public is
	// set; a tool with neither is rejected at registration so that "no scope"
	// is always a decision, never an omission.
	Scopes []string
	// Public marks a tool that any authenticated caller may use.
	Public bool
	// Approval says when a human must approve a call. The zero value means
	// the default for the risk: Always for destructive tools, Never otherwise.
	Approval ApprovalRule
	// FlagKey is the feature flag that gates the tool. Empty means the
	// flags package's default, "tool.<name>".
	FlagKey string
	// Redact lists argument and result fields (dotted paths such as
	// "credentials.password") that never reach an audit sink.
	Redact []string
	// Headers marks top-level arguments that HTTP clients of protocol
	// 2026-07-28 also send as Mcp-Param-<name> headers, so that gateways
	// can route on them without reading the body: argument name (as in the
	// input schema) to header name. The input schema carries each as an
	// "x-mcp-header" annotation, and the HTTP transport refuses a request
	// whose headers disagree with its body. Only string, integer and
	// boolean arguments qualify, never a redacted one: every proxy on the
	// way sees a header. See ParamHeader.
	Headers map[string]string
	// Idempotent marks a write whose repetition has no further effect.
	Idempotent bool
	// OpenWorld marks a tool that reaches systems outside the server's own
	// domain (the internet, third-party APIs).
	OpenWorld bool
}

// ApprovalRule decides whether a call needs a human's approval. Build one
// with ApprovalNever, ApprovalAlways or ApprovalWhen.
type ApprovalRule struct {
	kind approvalKind
	// Description is the rule in words, rendered into POLICY.md.
	description string
	inType      reflect.Type
	pred        func(any) bool
}

type approvalKind int

const (
	approvalDefault approvalKind = iota
	approvalNever
	approvalAlways
	approvalWhen
)

// ApprovalNever means calls run without approval. On a destructive tool it is
// an explicit, reviewable exception to the default.
func ApprovalNever() ApprovalRule { return ApprovalRule{kind: approvalNever, description: "never"} }

// ApprovalAlways means every call waits for a human.
func ApprovalAlways() ApprovalRule { return ApprovalRule{kind: approvalAlways, description: "always"} }

// ApprovalWhen requires approval when pred returns true for the decoded input,
// for thresholds such as an amount or a severity. description says the rule
// in words ("amount_usd > 500") for POLICY.md. In must be the tool's input
// type; a mismatch is a registration error.
func ApprovalWhen[In any](description string, pred func(In) bool) ApprovalRule {
	return ApprovalRule{
		kind:        approvalWhen,
		description: description,
		inType:      reflect.TypeFor[In](),
		pred: func(v any) bool {
			in, ok := v.(In)
			// A value of another type cannot be judged: ask a human.
			return !ok || pred(in)
		},
	}
}

// resolve replaces the default rule with the one the risk implies.
func (a ApprovalRule) resolve(r Risk) ApprovalRule {
	if a.kind != approvalDefault {
		return a
	}
	if r == Destructive {
		a = ApprovalAlways()
		a.description = "always (default for destructive tools)"
		return a
	}
	a = ApprovalNever()
	return a
}

// String describes the rule for documents and audit records.
func (a ApprovalRule) String() string {
	if a.kind == approvalDefault {
		return "default"
	}
	if a.kind == approvalWhen {
		return "when " + a.description
	}
	return a.description
}

// Conditional reports whether the rule depends on the input.
func (a ApprovalRule) Conditional() bool { return a.kind == approvalWhen }

// Always reports whether every call needs approval.
func (a ApprovalRule) Always() bool { return a.kind == approvalAlways }

// Never reports whether calls never need approval.
func (a ApprovalRule) Never() bool { return a.kind == approvalNever }

// Requires reports whether a call with the decoded input needs approval.
func (a ApprovalRule) Requires(input any) bool {
	switch a.kind {
	case approvalNever:
		return false
	case approvalWhen:
		return a.pred(input)
	}
	// Always, and a rule that was never resolved: fail closed.
	return true
}

// validate checks the policy at registration.
func (p *Policy) validate(inType reflect.Type) error {
	if !p.Risk.Valid() {
		return fmt.Errorf("policy: Risk must be ReadOnly, Write or Destructive")
	}
	if len(p.Scopes) == 0 && !p.Public {
		return fmt.Errorf("policy: declare the Scopes a caller needs, or set Public: true")
	}
	for _, s := range p.Scopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n\"\\") {
			return fmt.Errorf("policy: scope %q must be a non-empty token without spaces or quotes", s)
		}
	}
	if p.Approval.kind == approvalWhen && p.Approval.inType != inType {
		return fmt.Errorf("policy: ApprovalWhen predicate takes %v, the tool's input is %v", p.Approval.inType, inType)
	}
	if p.Risk == ReadOnly && p.Idempotent {
		// Harmless but meaningless: the hint only applies to writes.
		p.Idempotent = false
	}
	for _, f := range p.Redact {
		if f == "" || strings.HasPrefix(f, ".") || strings.HasSuffix(f, ".") {
			return fmt.Errorf("policy: redact path %q is not a dotted field path", f)
		}
	}
	return nil
}

// Annotations derives the MCP tool annotations from the policy, so that the
// hints a client shows can never disagree with what the server enforces.
func (p Policy) Annotations(title string) *mcp.ToolAnnotations {
	destructive := p.Risk == Destructive
	openWorld := p.OpenWorld
	a := &mcp.ToolAnnotations{
		Title:          title,
		ReadOnlyHint:   p.Risk == ReadOnly,
		IdempotentHint: p.Risk == ReadOnly || p.Idempotent,
		OpenWorldHint:  &openWorld,
	}
	if p.Risk != ReadOnly {
		a.DestructiveHint = &destructive
	}
	return a
}
