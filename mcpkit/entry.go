package mcpkit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/internal/wire"
)

// RefusedRPCCode is the JSON-RPC error code of a resources/read or
// prompts/get that mcpkit refused or that failed (a gate said no, the
// approval was not given, the handler failed): those methods have no
// isError result as tools/call has, so the refusal a tool caller reads in
// its result is the error's message here, word for word, and the error's
// data names the audit outcome ({"outcome":"denied_scope"}). Invalid
// input and unknown targets use -32602 (invalid params), as the protocol
// does for a resource not found.
const RefusedRPCCode int64 = -32001

// entrySpec is what AddResource, AddResourceTemplate and AddPrompt have in
// common to check.
type entrySpec struct {
	kind        Kind
	name, title string
	description string
	policy      Policy
	in          reflect.Type
	uri         string
	mimeType    string
}

// newEntryInfo checks a resource, template or prompt and builds its static
// description, with the same policy rules as a tool's, except that the
// risk is read-only by nature: zero means ReadOnly, and Write or
// Destructive is refused (reading a resource or getting a prompt changes
// nothing; an action belongs in a tool).
func (s *Server) newEntryInfo(e entrySpec) (*ToolInfo, error) {
	noun := e.kind.Noun()
	fail := func(err error) (*ToolInfo, error) { return nil, fmt.Errorf("mcpkit: %s %q: %w", noun, e.name, err) }
	if err := checkEntryName(e.kind, e.name); err != nil {
		return nil, fmt.Errorf("mcpkit: %w", err)
	}
	if err := checkEntryDescription(e.kind, e.name, e.description); err != nil {
		return nil, fmt.Errorf("mcpkit: %w", err)
	}
	p := e.policy
	p.Scopes = slices.Clone(p.Scopes)
	p.Redact = slices.Clone(p.Redact)
	switch p.Risk {
	case 0:
		p.Risk = ReadOnly
	case ReadOnly:
	default:
		if p.Risk.Valid() {
			return fail(fmt.Errorf("policy: a %s is read-only by nature, so Risk must be ReadOnly (or left zero), not %s; an action belongs in a tool", noun, p.Risk))
		}
	}
	if err := p.validate(e.in); err != nil {
		return fail(err)
	}
	if len(p.Headers) > 0 {
		return fail(fmt.Errorf("policy: Headers mirror tool arguments into Mcp-Param-* headers; a %s has none", noun))
	}
	p.Idempotent = false
	p.Approval = p.Approval.resolve(p.Risk)
	inSchema, err := reflectSchema(e.in)
	if err != nil {
		return fail(fmt.Errorf("input: %w", err))
	}
	if missing := undocumented(inSchema.tree); len(missing) > 0 {
		return fail(fmt.Errorf("input: every property needs a description (the model reads it); add `jsonschema:\"description=...\"` to %s", strings.Join(missing, ", ")))
	}
	redact := append(slices.Clone(p.Redact), taggedRedactions(e.in)...)
	slices.Sort(redact)
	info := &ToolInfo{
		Kind:           e.kind,
		Name:           e.name,
		Title:          e.title,
		Description:    strings.TrimSpace(e.description),
		Policy:         p,
		InputSchema:    inSchema.raw,
		Redact:         slices.Compact(redact),
		MaxResultBytes: s.maxResult,
		URI:            e.uri,
		MIMEType:       e.mimeType,
		input:          inSchema,
	}
	if e.kind != KindResource {
		if info.argTypes, err = stringProps(inSchema.tree); err != nil {
			return fail(fmt.Errorf("input: %w", err))
		}
	}
	return info, nil
}

// newEntryCall starts the Call of a resources/read or prompts/get.
func (s *Server) newEntryCall(info *ToolInfo, op Operation, target string, req mcp.Request) *Call {
	c := &Call{Operation: op, Target: target, Tool: info, Server: s.impl, Start: time.Now()}
	if req == nil {
		return c
	}
	switch r := req.(type) {
	case *mcp.ReadResourceRequest:
		c.ResourceRequest = r
		if r.Params != nil {
			c.RequestID = metaRequestID(r.Params.Meta)
		}
	case *mcp.GetPromptRequest:
		c.PromptRequest = r
		if r.Params != nil {
			c.RequestID = metaRequestID(r.Params.Meta)
		}
	}
	if pv, ok := req.(interface{ ProtocolVersion() string }); ok {
		c.ProtocolVersion = pv.ProtocolVersion()
	}
	if ss := req.GetSession(); ss != nil {
		c.SessionID = ss.ID()
	}
	return c
}

// runEntry runs c through info's chain, or, when the caller cannot be
// established, through the outer chain only, so that the refusal is
// audited.
func (s *Server) runEntry(ctx context.Context, c *Call, req mcp.Request) (*mcp.CallToolResult, error) {
	ctx = context.WithValue(ctx, callKey{}, c)
	if err := s.establish(ctx, c, req); err != nil {
		return s.wrapOuter(func(context.Context, *Call) (*mcp.CallToolResult, error) {
			return c.Fail(err), nil
		})(ctx, c)
	}
	return c.Tool.chain(ctx, c)
}

// record turns the handler's reply into the result the chain carries: the
// reply as JSON, which the result size limit measures and the audit
// middleware redacts and records exactly as it does a tool's structured
// result. The reply itself is kept on the call for the SDK.
func (c *Call) record(reply any, shown any) (*mcp.CallToolResult, error) {
	b, err := json.Marshal(shown)
	if err != nil {
		return c.Fail(fmt.Errorf("marshal %s: %w", c.Tool.Label(), err)), nil
	}
	c.reply = reply
	return &mcp.CallToolResult{StructuredContent: json.RawMessage(b)}, nil
}

// refusal is the JSON-RPC error a refused or failed resources/read or
// prompts/get answers with: the message a tool caller would read in its
// isError result, and the outcome.
func refusal(c *Call, res *mcp.CallToolResult) error {
	code := RefusedRPCCode
	switch c.Outcome() {
	case OutcomeInvalidInput, OutcomeUnknownResource, OutcomeUnknownPrompt:
		code = jsonrpc.CodeInvalidParams
	}
	if errors.Is(c.Err(), errResourceNotFound) {
		code = jsonrpc.CodeInvalidParams
	}
	msg := "the request was refused"
	for _, ct := range res.Content {
		if t, ok := ct.(*mcp.TextContent); ok {
			msg = t.Text
			break
		}
	}
	data, _ := json.Marshal(map[string]string{"outcome": string(c.Outcome())})
	return &jsonrpc.Error{Code: code, Message: msg, Data: data}
}

// replyOf hands the SDK what the chain produced: the handler's reply, an
// input-required round (approval asking the client), or the refusal as a
// JSON-RPC error.
func replyOf[R any, PR interface {
	*R
	mcp.Result
}](s *Server, c *Call, res *mcp.CallToolResult, err error, inputRound func(*mcp.CallToolResult) PR, cache func(PR) *mcp.Cacheable) (PR, error) {
	if err != nil {
		return nil, err
	}
	if res == nil {
		return nil, errors.New("no result")
	}
	if len(res.InputRequests) > 0 && !res.IsError {
		r := inputRound(res)
		s.setCaching(cache(r), false)
		return r, nil
	}
	if res.IsError {
		return nil, refusal(c, res)
	}
	r, ok := c.reply.(PR)
	if !ok || r == nil {
		return nil, fmt.Errorf("%s produced no reply", c.Tool.Label())
	}
	s.setCaching(cache(r), false)
	return r, nil
}

// metaRequestID is the JSON-RPC id mcpkit's transports put in _meta.
func metaRequestID(m mcp.Meta) string {
	id, _ := m[wire.MetaRequestID].(string)
	return id
}
