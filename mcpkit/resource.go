package mcpkit

import (
	"context"
	"fmt"
	"net/url"
	"reflect"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// ResourceFunc reads a fixed resource. Contents without a URI or MIME type
// get the resource's. A returned error is shown to the caller only if it
// is (or wraps) an *Error, as for tools.
type ResourceFunc func(ctx context.Context) ([]*mcp.ResourceContents, error)

// ResourceTemplateFunc reads one resource of a template: In holds the URI's
// variables, decoded and validated against In's schema before the
// function runs. The URI read is CallFromContext(ctx).Target.
type ResourceTemplateFunc[In any] func(ctx context.Context, in In) ([]*mcp.ResourceContents, error)

// Resource describes a fixed resource to register.
type Resource struct {
	// URI is absolute (scheme://...) and unique among the resources.
	URI string
	// Name is lower snake_case and unique among resources and templates:
	// what the flag key ("resource.<name>"), rate-limit rules and the
	// audit digest option know the resource by.
	Name string
	// Title is an optional display name.
	Title string
	// Description is one paragraph telling the model what the resource
	// holds.
	Description string
	// MIMEType is the contents' media type, if known.
	MIMEType string
	// Policy is required as for a tool; Risk may be left zero (a read is
	// read-only) and cannot be more than ReadOnly.
	Policy Policy
}

// ResourceTemplate describes a family of resources addressed by a URI
// template such as "incident://{id}".
type ResourceTemplate struct {
	// URITemplate is absolute and uses only simple {name} expressions,
	// each a whole value of one field of In; every field of In is a
	// variable of the template.
	URITemplate string
	// Name, Title, Description, MIMEType and Policy are as for Resource.
	Name        string
	Title       string
	Description string
	MIMEType    string
	Policy      Policy
}

// AddResource registers a fixed resource on s: listed (resources/list) and
// read (resources/read) only by callers every gate lets through, every
// read audited. Problems are errors here, never at read time.
func AddResource(s *Server, r Resource, fn ResourceFunc) error {
	if fn == nil {
		return fmt.Errorf("mcpkit: resource %q: handler is nil", r.Name)
	}
	u, err := url.Parse(r.URI)
	if err != nil || u.Scheme == "" {
		return fmt.Errorf("mcpkit: resource %q: URI %q must be an absolute URI (scheme://...)", r.Name, r.URI)
	}
	info, err := s.newEntryInfo(entrySpec{kind: KindResource, name: r.Name, title: r.Title, description: r.Description,
		policy: r.Policy, in: reflect.TypeFor[struct{}](), uri: r.URI, mimeType: r.MIMEType})
	if err != nil {
		return err
	}
	typed := func(ctx context.Context, c *Call) (*mcp.CallToolResult, error) {
		contents, err := fn(ctx)
		if err != nil {
			return c.Fail(err), nil
		}
		return c.recordContents(contents)
	}
	return s.registerEntry(info, typed, typedDecode[struct{}])
}

// MustAddResource is AddResource for start-up code: it panics on a
// registration error, which is a programming mistake.
func MustAddResource(s *Server, r Resource, fn ResourceFunc) {
	if err := AddResource(s, r, fn); err != nil {
		panic(err)
	}
}

// AddResourceTemplate registers a resource template on s. A URI whose
// variables do not fit (a slash or "..", a value In's schema refuses) is
// refused as invalid input, audited, and the function does not run.
func AddResourceTemplate[In any](s *Server, t ResourceTemplate, fn ResourceTemplateFunc[In]) error {
	if fn == nil {
		return fmt.Errorf("mcpkit: resource %q: handler is nil", t.Name)
	}
	tmpl, err := parseURITemplate(t.URITemplate)
	if err != nil {
		return fmt.Errorf("mcpkit: resource %q: %w", t.Name, err)
	}
	info, err := s.newEntryInfo(entrySpec{kind: KindResourceTemplate, name: t.Name, title: t.Title, description: t.Description,
		policy: t.Policy, in: reflect.TypeFor[In](), uri: t.URITemplate, mimeType: t.MIMEType})
	if err != nil {
		return err
	}
	if err := tmpl.covers(info.argTypes); err != nil {
		return fmt.Errorf("mcpkit: resource %q: %w", t.Name, err)
	}
	info.tmpl = tmpl
	typed := func(ctx context.Context, c *Call) (*mcp.CallToolResult, error) {
		in, _ := c.Input.(In)
		contents, err := fn(ctx, in)
		if err != nil {
			return c.Fail(err), nil
		}
		return c.recordContents(contents)
	}
	return s.registerEntry(info, typed, typedDecode[In])
}

// MustAddResourceTemplate is AddResourceTemplate for start-up code: it
// panics on a registration error.
func MustAddResourceTemplate[In any](s *Server, t ResourceTemplate, fn ResourceTemplateFunc[In]) {
	if err := AddResourceTemplate(s, t, fn); err != nil {
		panic(err)
	}
}

// covers checks that the template's variables and In's fields are the
// same names: a variable without a field would be dropped, a field
// without a variable never set.
func (t *uriTemplate) covers(fields map[string]string) error {
	for _, v := range t.vars {
		if _, ok := fields[v]; !ok {
			return fmt.Errorf("URI template %q: variable {%s} is not a field of the input type (json name %q)", t.raw, v, v)
		}
	}
	if len(fields) != len(t.vars) {
		for _, f := range sortedKeys(fields) {
			found := false
			for _, v := range t.vars {
				found = found || v == f
			}
			if !found {
				return fmt.Errorf("URI template %q: input field %s is not a variable of the template", t.raw, f)
			}
		}
	}
	return nil
}

// recordContents fills in the URI and MIME type the handler left out and
// records the contents as the read's reply.
func (c *Call) recordContents(contents []*mcp.ResourceContents) (*mcp.CallToolResult, error) {
	if len(contents) == 0 {
		return c.Fail(fmt.Errorf("%s returned no contents", c.Tool.Label())), nil
	}
	for i, ct := range contents {
		if ct == nil {
			return c.Fail(fmt.Errorf("%s returned nil contents at %d", c.Tool.Label(), i)), nil
		}
		if ct.URI == "" {
			ct.URI = c.Target
		}
		if ct.MIMEType == "" {
			ct.MIMEType = c.Tool.MIMEType
		}
	}
	res := &mcp.ReadResourceResult{Contents: contents}
	return c.record(res, struct {
		Contents []*mcp.ResourceContents `json:"contents"`
	}{contents})
}

// resourceHandlerFor adapts a resource's or template's chain to the SDK.
func (s *Server) resourceHandlerFor(info *ToolInfo) mcp.ResourceHandler {
	return func(ctx context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
		uri := ""
		if req != nil && req.Params != nil {
			uri = req.Params.URI
		}
		c := s.newEntryCall(info, OpReadResource, uri, req)
		c.setURIArguments(uri)
		res, err := s.runEntry(ctx, c, req)
		return replyOf(s, c, res, err,
			func(r *mcp.CallToolResult) *mcp.ReadResourceResult {
				return &mcp.ReadResourceResult{InputRequests: r.InputRequests, RequestState: r.RequestState}
			},
			func(r *mcp.ReadResourceResult) *mcp.Cacheable { return &r.Cacheable })
	}
}

// setURIArguments maps a template's variables in uri onto c's arguments,
// or records why they do not fit for the validation stage to refuse.
func (c *Call) setURIArguments(uri string) {
	info := c.Tool
	if info.tmpl == nil {
		return
	}
	vals, ok, err := info.tmpl.match(uri)
	switch {
	case err != nil:
		c.argErr = &Error{Code: CodeInvalidInput, Message: fmt.Sprintf("invalid resource URI for %s (%s): %v", info.Label(), info.URI, err)}
	case !ok:
		c.argErr = &Error{Code: CodeInvalidInput, Message: fmt.Sprintf("invalid resource URI: it does not have the shape of %s (%s)", info.Label(), info.URI)}
	default:
		c.Arguments = stringArguments(info.argTypes, vals)
	}
}
