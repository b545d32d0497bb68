package surfacediff

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/mcpkit-go/mcpkit/flags"
	"github.com/mcpkit-go/mcpkit/internal/flagdefault"
	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// Surface is what a server offers its clients and what its policies
// promise: the data the classifier compares. Resources, resource templates
// and prompts sit beside the tools, with the same policy record.
type Surface struct {
	Tools     []Tool
	Resources []Resource
	Templates []ResourceTemplate
	Prompts   []Prompt
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

// FromServer reads the surface of srv: tools, resources, resource
// templates and prompts, each sorted by name.
func FromServer(srv *mcpkit.Server) (*Surface, error) {
	byName := func(a, b *mcpkit.ToolInfo) int { return strings.Compare(a.Name, b.Name) }
	tools := slices.Clone(srv.Tools())
	slices.SortFunc(tools, byName)
	s := &Surface{Tools: make([]Tool, 0, len(tools))}
	for _, t := range tools {
		ann, err := json.Marshal(t.Annotations)
		if err != nil {
			return nil, fmt.Errorf("surfacediff: tool %s: annotations: %w", t.Name, err)
		}
		s.Tools = append(s.Tools, Tool{
			Name: t.Name, Title: t.Title, Description: t.Description, Policy: policyOf(t),
			Annotations: ann, InputSchema: t.InputSchema, OutputSchema: t.OutputSchema,
		})
	}
	res := slices.Clone(srv.Resources())
	slices.SortFunc(res, byName)
	for _, r := range res {
		if r.Kind == mcpkit.KindResourceTemplate {
			s.Templates = append(s.Templates, ResourceTemplate{Name: r.Name, Title: r.Title, Description: r.Description,
				URITemplate: r.URI, MIMEType: r.MIMEType, Policy: policyOf(r), Variables: r.InputSchema})
			continue
		}
		s.Resources = append(s.Resources, Resource{Name: r.Name, Title: r.Title, Description: r.Description,
			URI: r.URI, MIMEType: r.MIMEType, Policy: policyOf(r)})
	}
	prompts := slices.Clone(srv.Prompts())
	slices.SortFunc(prompts, byName)
	for _, p := range prompts {
		s.Prompts = append(s.Prompts, Prompt{Name: p.Name, Title: p.Title, Description: p.Description,
			Policy: policyOf(p), Arguments: p.InputSchema})
	}
	return s, nil
}

// policyOf is an entry's policy as the surface file records it.
func policyOf(t *mcpkit.ToolInfo) Policy {
	return Policy{
		Risk: t.Policy.Risk.String(), Scopes: nonNil(t.Policy.Scopes), Public: t.Policy.Public,
		Approval: t.Policy.Approval.String(), ApprovalKind: approvalKind(t.Policy.Approval),
		FlagKey: flags.FlagKey(t), FlagDefault: flagdefault.Of(t.Policy.Risk), Redact: nonNil(t.Redact),
		Idempotent: t.Policy.Idempotent, OpenWorld: t.Policy.OpenWorld,
	}
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

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Marshal renders the surface as the golden file: indented JSON with a
// trailing newline; a list of tools when the server has nothing else (the
// format of the files written before resources and prompts existed), else
// an object {"tools", "resources", "resource_templates", "prompts"}.
func (s *Surface) Marshal() ([]byte, error) {
	var v any = orEmpty(s.Tools)
	if len(s.Resources)+len(s.Templates)+len(s.Prompts) > 0 {
		v = surfaceObject{Tools: orEmpty(s.Tools), Resources: orEmpty(s.Resources),
			Templates: orEmpty(s.Templates), Prompts: orEmpty(s.Prompts)}
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// surfaceObject is the golden file's object form.
type surfaceObject struct {
	Tools     []Tool             `json:"tools"`
	Resources []Resource         `json:"resources,omitempty"`
	Templates []ResourceTemplate `json:"resource_templates,omitempty"`
	Prompts   []Prompt           `json:"prompts,omitempty"`
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// ErrFormat marks a surface file the classifier cannot read.
var ErrFormat = errors.New("surfacediff: not a surface file")

// Parse reads a surface file: the list of tools mcpkittest writes for a
// server with tools only, or an object {"tools", "resources",
// "resource_templates", "prompts"}. Fields this version does not know are an error,
// not ignored: a change in them could not be classified. Fields added to
// the format later (approval_kind, flag_default) are derived when absent.
func Parse(data []byte) (*Surface, error) {
	data = bytes.TrimSpace(data)
	var tools []Tool
	var obj surfaceObject
	switch {
	case len(data) == 0:
		return nil, fmt.Errorf("%w: the file is empty", ErrFormat)
	case data[0] == '[':
		if err := strictUnmarshal(data, &tools); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrFormat, err)
		}
	case data[0] == '{':
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
	out := &Surface{Tools: tools, Resources: obj.Resources, Templates: obj.Templates, Prompts: obj.Prompts}
	if err := out.normalizeEntries(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	return out, nil
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
	if err := t.Policy.normalize(); err != nil {
		return err
	}
	return objectSchemas(map[string]json.RawMessage{"input_schema": t.InputSchema, "output_schema": t.OutputSchema})
}

// normalize checks a policy and fills the fields an older file lacks.
func (p *Policy) normalize() error {
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
		// A file written before flag_default existed: the default of its
		// risk (checked above to be one of riskOrder).
		for _, r := range []mcpkit.Risk{mcpkit.ReadOnly, mcpkit.Write, mcpkit.Destructive} {
			if r.String() == p.Risk {
				p.FlagDefault = flagdefault.Of(r)
			}
		}
	}
	if p.FlagDefault != "on" && p.FlagDefault != "off" {
		return fmt.Errorf("flag_default %q is not on or off", p.FlagDefault)
	}
	return nil
}

// objectSchemas checks that each schema present is a JSON object.
func objectSchemas(schemas map[string]json.RawMessage) error {
	for name, raw := range schemas {
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
