package surfacediff

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/mcpkit-go/mcpkit/flags"
	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// Surface is what a server offers its clients and what its policies
// promise: the data the classifier compares. Tools only for now; resources
// and prompts join it when mcpkit registers them.
type Surface struct {
	Tools []Tool
}

// Tool is one tool as the golden surface file records it.
type Tool struct {
	Name         string          `json:"name"`
	Title        string          `json:"title,omitempty"`
	Description  string          `json:"description"`
	Policy       Policy          `json:"policy"`
	Annotations  json.RawMessage `json:"annotations"`
	InputSchema  json.RawMessage `json:"input_schema"`
	OutputSchema json.RawMessage `json:"output_schema,omitempty"`
}

// Policy is a tool's policy as the golden surface file records it.
// ApprovalKind and FlagDefault were added to the format later: Parse
// derives them from Approval and Risk when an older file lacks them.
type Policy struct {
	Risk   string   `json:"risk"`
	Scopes []string `json:"scopes"`
	Public bool     `json:"public"`
	// Approval is the rule in words ("always", "never", "when amount > 500").
	Approval string `json:"approval"`
	// ApprovalKind is "always", "when" or "never".
	ApprovalKind string `json:"approval_kind,omitempty"`
	FlagKey      string `json:"flag_key"`
	// FlagDefault is "on" or "off": the flags package's answer when the
	// flag is not defined.
	FlagDefault string `json:"flag_default,omitempty"`
	// Redact is every field masked in audit records: the policy's paths
	// and the fields tagged `mcpkit:"redact"`.
	Redact     []string `json:"redact"`
	Idempotent bool     `json:"idempotent"`
	OpenWorld  bool     `json:"open_world"`
}

// Risk levels and approval kinds as the surface file spells them, ordered
// from least to most guarded.
var (
	riskOrder     = []string{"read_only", "write", "destructive"}
	approvalOrder = []string{"never", "when", "always"}
)

// FromServer reads the surface of srv, sorted by tool name.
func FromServer(srv *mcpkit.Server) (*Surface, error) {
	tools := slices.Clone(srv.Tools())
	slices.SortFunc(tools, func(a, b *mcpkit.ToolInfo) int { return strings.Compare(a.Name, b.Name) })
	s := &Surface{Tools: make([]Tool, 0, len(tools))}
	for _, t := range tools {
		ann, err := json.Marshal(t.Annotations)
		if err != nil {
			return nil, fmt.Errorf("surfacediff: tool %s: annotations: %w", t.Name, err)
		}
		s.Tools = append(s.Tools, Tool{
			Name: t.Name, Title: t.Title, Description: t.Description,
			Policy: Policy{
				Risk: t.Policy.Risk.String(), Scopes: nonNil(t.Policy.Scopes), Public: t.Policy.Public,
				Approval: t.Policy.Approval.String(), ApprovalKind: approvalKind(t.Policy.Approval),
				FlagKey: flags.FlagKey(t), FlagDefault: flagDefault(t.Policy.Risk), Redact: nonNil(t.Redact),
				Idempotent: t.Policy.Idempotent, OpenWorld: t.Policy.OpenWorld,
			},
			Annotations: ann, InputSchema: t.InputSchema, OutputSchema: t.OutputSchema,
		})
	}
	return s, nil
}

func approvalKind(a mcpkit.ApprovalRule) string {
	switch {
	case a.Always():
		return "always"
	case a.Conditional():
		return "when"
	case a.Never():
		return "never"
	}
	// An unresolved rule is enforced as always (fail closed).
	return "always"
}

// flagDefault is the flags package's per-risk default for an undefined
// flag.
func flagDefault(r mcpkit.Risk) string {
	if r == mcpkit.ReadOnly {
		return "on"
	}
	return "off"
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Marshal renders the surface as the golden file: indented JSON, a list of
// tools, with a trailing newline.
func (s *Surface) Marshal() ([]byte, error) {
	tools := s.Tools
	if tools == nil {
		tools = []Tool{}
	}
	b, err := json.MarshalIndent(tools, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// ErrFormat marks a surface file the classifier cannot read.
var ErrFormat = errors.New("surfacediff: not a surface file")

// Parse reads a surface file: the list of tools mcpkittest writes, or an
// object {"tools": [...]}. Fields this version does not know are an error,
// not ignored: a change in them could not be classified. Fields added to
// the format later (approval_kind, flag_default) are derived when absent.
func Parse(data []byte) (*Surface, error) {
	data = bytes.TrimSpace(data)
	var tools []Tool
	switch {
	case len(data) == 0:
		return nil, fmt.Errorf("%w: the file is empty", ErrFormat)
	case data[0] == '[':
		if err := strictUnmarshal(data, &tools); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrFormat, err)
		}
	case data[0] == '{':
		var obj struct {
			Tools []Tool `json:"tools"`
		}
		if err := strictUnmarshal(data, &obj); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrFormat, err)
		}
		tools = obj.Tools
	default:
		return nil, fmt.Errorf("%w: want a JSON list of tools", ErrFormat)
	}
	seen := map[string]bool{}
	for i := range tools {
		t := &tools[i]
		if err := t.normalize(); err != nil {
			return nil, fmt.Errorf("%w: tool %d (%q): %v", ErrFormat, i, t.Name, err)
		}
		if seen[t.Name] {
			return nil, fmt.Errorf("%w: tool %q is listed twice", ErrFormat, t.Name)
		}
		seen[t.Name] = true
	}
	return &Surface{Tools: tools}, nil
}

func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// normalize checks what the classifier relies on and fills the fields an
// older file lacks.
func (t *Tool) normalize() error {
	if t.Name == "" {
		return errors.New("no name")
	}
	p := &t.Policy
	if !slices.Contains(riskOrder, p.Risk) {
		return fmt.Errorf("risk %q is not one of %s", p.Risk, strings.Join(riskOrder, ", "))
	}
	derived := ""
	switch {
	case p.Approval == "never":
		derived = "never"
	case strings.HasPrefix(p.Approval, "always"):
		derived = "always"
	case strings.HasPrefix(p.Approval, "when "):
		derived = "when"
	}
	if p.ApprovalKind == "" {
		if derived == "" {
			return fmt.Errorf("approval %q is not \"always\", \"never\" or \"when <condition>\"", p.Approval)
		}
		p.ApprovalKind = derived
	}
	if !slices.Contains(approvalOrder, p.ApprovalKind) {
		return fmt.Errorf("approval_kind %q is not one of %s", p.ApprovalKind, strings.Join(approvalOrder, ", "))
	}
	if p.FlagDefault == "" {
		p.FlagDefault = "off"
		if p.Risk == "read_only" {
			p.FlagDefault = "on"
		}
	}
	if p.FlagDefault != "on" && p.FlagDefault != "off" {
		return fmt.Errorf("flag_default %q is not on or off", p.FlagDefault)
	}
	for name, raw := range map[string]json.RawMessage{"input_schema": t.InputSchema, "output_schema": t.OutputSchema} {
		if len(raw) == 0 || string(raw) == "null" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("%s is not a JSON object: %v", name, err)
		}
	}
	return nil
}
