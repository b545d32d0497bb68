package mcpkit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// ToolFunc is a typed tool: In is decoded from the validated arguments, Out
// becomes the structured result. A returned error is shown to the caller
// only if it is (or wraps) an *Error; anything else becomes a generic
// message and stays in the audit record.
type ToolFunc[In, Out any] func(ctx context.Context, in In) (Out, error)

// Tool describes a tool to register.
type Tool struct {
	// Name is lower snake_case and starts with a verb: list_incidents.
	Name string
	// Title is an optional display name.
	Title string
	// Description is one paragraph telling the model when to use the tool.
	Description string
	// Policy is required: see Policy.
	Policy Policy
	// MaxResultBytes bounds this tool's result as serialized JSON; zero
	// means the server's bound (WithMaxResultBytes, default
	// DefaultMaxResultBytes). Negative is a registration error.
	MaxResultBytes int
}

// ToolInfo is a registered tool, resource, resource template or prompt (see
// Kind) as the chain, the gates, the conformance suite and POLICY.md see
// it. It is fixed at registration: Server.Tools, Server.Resources,
// Server.Prompts and their single-entry forms hand out deep copies, and
// Call.Tool (shared by every call of the entry) is read-only.
type ToolInfo struct {
	// Kind is what the entry is; empty means a tool.
	Kind Kind
	// Name is the tool's, resource's or prompt's name: what gates, flag
	// keys, rate-limit rules and audit digests know it by.
	Name        string
	Title       string
	Description string
	// Policy with the approval rule resolved for the risk.
	Policy Policy
	// InputSchema and OutputSchema are the JSON Schemas sent in tools/list.
	InputSchema  json.RawMessage
	OutputSchema json.RawMessage
	// Annotations are derived from Policy.
	Annotations *mcp.ToolAnnotations
	// Redact is every field path to mask in audit records: the policy's
	// list plus fields tagged `mcpkit:"redact"` in the In and Out types.
	Redact []string
	// MaxResultBytes is the bound on the tool's serialized result: the
	// tool's own or the server's.
	MaxResultBytes int
	// ParamHeaders are the arguments mirrored into Mcp-Param-* headers
	// (Policy.Headers), sorted by argument, with their schema types.
	ParamHeaders []ParamHeader
	// Unknown is set on the stand-in for a call to a tool (a read of a
	// resource, a get of a prompt) mcpkit did not register.
	Unknown bool
	// URI is a resource's URI or a resource template's URI template;
	// empty for tools and prompts.
	URI string
	// MIMEType is a resource's declared media type, if any.
	MIMEType string

	input *compiledSchema
	chain Handler
	// decide is the chain of the requests decided as a read or get of a
	// resource, template or prompt without running its handler
	// (subscriptions, completions): see buildDecision.
	decide Handler
	// argTypes are the JSON types of a template's or prompt's input
	// fields, whose values arrive as strings.
	argTypes map[string]string
	// tmpl is a resource template's matcher.
	tmpl *uriTemplate
}

// clone returns a deep copy of t without its chain: what Server.Tools
// hands out, so that a caller cannot change what the server enforces, and
// does not race with calls in flight.
func (t *ToolInfo) clone() *ToolInfo {
	c := *t
	c.Policy.Scopes = slices.Clone(t.Policy.Scopes)
	c.Policy.Redact = slices.Clone(t.Policy.Redact)
	c.InputSchema = bytes.Clone(t.InputSchema)
	c.OutputSchema = bytes.Clone(t.OutputSchema)
	c.Redact = slices.Clone(t.Redact)
	c.Policy.Headers = maps.Clone(t.Policy.Headers)
	c.ParamHeaders = slices.Clone(t.ParamHeaders)
	if t.Annotations != nil {
		a := *t.Annotations
		a.DestructiveHint = clonePtr(t.Annotations.DestructiveHint)
		a.OpenWorldHint = clonePtr(t.Annotations.OpenWorldHint)
		c.Annotations = &a
	}
	c.input, c.chain, c.decide, c.tmpl, c.argTypes = nil, nil, nil, nil, nil
	return &c
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// TextRenderer is implemented by an Out type that wants its text content
// rendered by hand rather than as its JSON.
type TextRenderer interface {
	RenderText() string
}

// AddTool registers a typed tool on s. Schemas are generated from In and Out
// once, here; the name, description, policy and schemas are checked here too,
// so a bad tool is an error at start-up, never at call time.
func AddTool[In, Out any](s *Server, t Tool, fn ToolFunc[In, Out]) error {
	if fn == nil {
		return fmt.Errorf("mcpkit: tool %q: handler is nil", t.Name)
	}
	info, err := s.newToolInfo(t, reflect.TypeFor[In](), reflect.TypeFor[Out]())
	if err != nil {
		return err
	}
	var outZero any
	if ot := reflect.TypeFor[Out](); ot.Kind() == reflect.Pointer {
		// A nil *Out renders as the zero Out rather than JSON null, which
		// no object output schema accepts.
		outZero = reflect.New(ot.Elem()).Interface()
	}
	typed := func(ctx context.Context, c *Call) (*mcp.CallToolResult, error) {
		in, _ := c.Input.(In)
		out, err := fn(ctx, in)
		if err != nil {
			return c.Fail(err), nil
		}
		var v any = out
		if outZero != nil && reflect.ValueOf(out).IsNil() {
			v = outZero
		}
		return renderOutput(c, v)
	}
	return s.register(info, typed, func(b json.RawMessage) (any, error) {
		var in In
		if err := json.Unmarshal(b, &in); err != nil {
			return nil, err
		}
		return in, nil
	})
}

// MustAddTool is AddTool for start-up code: it panics on a registration
// error, which is a programming mistake.
func MustAddTool[In, Out any](s *Server, t Tool, fn ToolFunc[In, Out]) {
	if err := AddTool(s, t, fn); err != nil {
		panic(err)
	}
}

func renderOutput(c *Call, out any) (*mcp.CallToolResult, error) {
	b, err := json.Marshal(out)
	if err != nil {
		return c.Fail(fmt.Errorf("marshal output: %w", err)), nil
	}
	text := string(b)
	if r, ok := out.(TextRenderer); ok {
		text = r.RenderText()
	}
	return &mcp.CallToolResult{
		Content:           []mcp.Content{&mcp.TextContent{Text: text}},
		StructuredContent: json.RawMessage(b),
	}, nil
}

// newToolInfo checks t and builds its static description.
func (s *Server) newToolInfo(t Tool, in, out reflect.Type) (*ToolInfo, error) {
	fail := func(err error) (*ToolInfo, error) { return nil, fmt.Errorf("mcpkit: tool %q: %w", t.Name, err) }
	if err := checkName(t.Name, s.verbs); err != nil {
		return nil, fmt.Errorf("mcpkit: %w", err)
	}
	if err := checkDescription(t.Name, t.Description); err != nil {
		return nil, fmt.Errorf("mcpkit: %w", err)
	}
	maxResult := s.maxResult
	switch {
	case t.MaxResultBytes < 0:
		return fail(fmt.Errorf("MaxResultBytes must be positive, or zero for the server's limit (%d)", s.maxResult))
	case t.MaxResultBytes > 0:
		maxResult = t.MaxResultBytes
	}
	p := t.Policy
	p.Scopes = slices.Clone(p.Scopes)
	p.Redact = slices.Clone(p.Redact)
	if err := p.validate(in); err != nil {
		return fail(err)
	}
	p.Approval = p.Approval.resolve(p.Risk)
	p.Headers = maps.Clone(p.Headers)
	headers, err := checkParamHeaders(p.Headers, append(slices.Clone(p.Redact), taggedRedactions(in)...))
	if err != nil {
		return fail(err)
	}
	inSchema, err := reflectSchema(in, markParamHeaders(headers))
	if err != nil {
		return fail(fmt.Errorf("input: %w", err))
	}
	if missing := undocumented(inSchema.tree); len(missing) > 0 {
		return fail(fmt.Errorf("input: every property needs a description (the model reads it); add `jsonschema:\"description=...\"` to %s", strings.Join(missing, ", ")))
	}
	outSchema, err := reflectSchema(out)
	if err != nil {
		return fail(fmt.Errorf("output: %w", err))
	}
	redact := append(slices.Clone(p.Redact), taggedRedactions(in)...)
	redact = append(redact, taggedRedactions(out)...)
	slices.Sort(redact)
	return &ToolInfo{
		Name:           t.Name,
		Title:          t.Title,
		Description:    strings.TrimSpace(t.Description),
		Policy:         p,
		InputSchema:    inSchema.raw,
		OutputSchema:   outSchema.raw,
		Annotations:    p.Annotations(t.Title),
		Redact:         slices.Compact(redact),
		MaxResultBytes: maxResult,
		ParamHeaders:   headers,
		Kind:           KindTool,
		input:          inSchema,
	}, nil
}
