package mcpkit

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// registerEntry builds a resource's, template's or prompt's chain, checks
// that its name (and URI) is free, records it, then hands it to the SDK
// with add.
func (s *Server) registerEntry(info *ToolInfo, typed Handler, decode func(json.RawMessage) (any, error)) (err error) {
	info.chain = s.build(info, typed, decode)
	info.decide = s.buildDecision(info, decode)
	s.mu.Lock()
	names := s.resources
	if info.Kind == KindPrompt {
		names = s.prompts
	}
	if _, dup := names[info.Name]; dup {
		s.mu.Unlock()
		return fmt.Errorf("mcpkit: %s %q is already registered", info.Kind.Noun(), info.Name)
	}
	switch info.Kind {
	case KindResource:
		if o, dup := s.uris[info.URI]; dup {
			s.mu.Unlock()
			return fmt.Errorf("mcpkit: resource %q: URI %s is already registered by resource %q", info.Name, info.URI, o.Name)
		}
		s.uris[info.URI] = info
	case KindResourceTemplate:
		for _, o := range s.templates {
			if o.URI == info.URI {
				s.mu.Unlock()
				return fmt.Errorf("mcpkit: resource %q: URI template %s is already registered by resource %q", info.Name, info.URI, o.Name)
			}
		}
		s.templates = append(s.templates, info)
	}
	names[info.Name] = info
	s.entryOrder = append(s.entryOrder, info)
	s.mu.Unlock()
	defer func() {
		// The SDK panics on a URI it cannot parse; mcpkit checked it, but
		// a registration error is never a panic.
		if v := recover(); v != nil {
			err = fmt.Errorf("mcpkit: %s: the SDK refused it: %v", info.Label(), v)
		}
	}()
	s.addToSDK(info)
	return nil
}

// addToSDK adds (or re-adds, which makes the SDK notify list_changed) an
// entry to the SDK server with its mcpkit handler.
func (s *Server) addToSDK(e *ToolInfo) {
	switch e.Kind {
	case KindResource:
		s.mcp.AddResource(&mcp.Resource{URI: e.URI, Name: e.Name, Title: e.Title, Description: e.Description, MIMEType: e.MIMEType},
			s.resourceHandlerFor(e))
	case KindResourceTemplate:
		s.mcp.AddResourceTemplate(&mcp.ResourceTemplate{URITemplate: e.URI, Name: e.Name, Title: e.Title, Description: e.Description, MIMEType: e.MIMEType},
			s.resourceHandlerFor(e))
	case KindPrompt:
		tree := e.input.tree
		args := make([]*mcp.PromptArgument, 0, len(tree.Properties))
		for _, name := range sortedKeys(tree.Properties) {
			args = append(args, &mcp.PromptArgument{Name: name, Description: tree.Properties[name].Description,
				Required: slices.Contains(tree.Required, name)})
		}
		s.mcp.AddPrompt(&mcp.Prompt{Name: e.Name, Title: e.Title, Description: e.Description, Arguments: args},
			s.promptHandlerFor(e))
	}
}

// typedDecode decodes validated arguments into In.
func typedDecode[In any](b json.RawMessage) (any, error) {
	var in In
	if err := json.Unmarshal(b, &in); err != nil {
		return nil, err
	}
	return in, nil
}

// Resources returns copies of the registered resources and resource
// templates (Kind tells them apart) in registration order.
func (s *Server) Resources() []*ToolInfo { return s.entries(KindResource, KindResourceTemplate) }

// Prompts returns copies of the registered prompts in registration order.
func (s *Server) Prompts() []*ToolInfo { return s.entries(KindPrompt) }

func (s *Server) entries(kinds ...Kind) []*ToolInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []*ToolInfo
	for _, e := range s.entryOrder {
		for _, k := range kinds {
			if e.Kind == k {
				out = append(out, e.clone())
			}
		}
	}
	return out
}

// Prompt returns a copy of the registered prompt with the given name, as
// Tool does for tools.
func (s *Server) Prompt(name string) (*ToolInfo, bool) {
	p, ok := s.prompt(name)
	if !ok {
		return nil, false
	}
	return p.clone(), true
}

// Resource returns a copy of the registered resource a resources/read of
// uri reaches: the fixed resource with that URI, else the first template
// uri matches (as the lists and the gates see it).
func (s *Server) Resource(uri string) (*ToolInfo, bool) {
	r, ok := s.resourceByURI(uri)
	if !ok {
		r, ok = s.templateFor(uri)
	}
	if !ok {
		return nil, false
	}
	return r.clone(), true
}

// prompt returns the shared registered prompt.
func (s *Server) prompt(name string) (*ToolInfo, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.prompts[name]
	return p, ok
}

// resourceByURI returns the fixed resource registered for uri.
func (s *Server) resourceByURI(uri string) (*ToolInfo, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.uris[uri]
	return r, ok
}

// templateByPattern returns the template registered with the URI template.
func (s *Server) templateByPattern(t string) (*ToolInfo, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, e := range s.templates {
		if e.URI == t {
			return e, true
		}
	}
	return nil, false
}

// templateFor returns the first template (in registration order) whose
// shape uri has, even one whose variables will be refused: the template's
// chain refuses and audits it.
func (s *Server) templateFor(uri string) (*ToolInfo, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, e := range s.templates {
		if _, ok, _ := e.tmpl.match(uri); ok {
			return e, true
		}
	}
	return nil, false
}

// NotifyListsChanged tells connected clients that the tool, resource and
// prompt lists changed, for gates whose decisions changed (a flag flipped)
// without anything being added or removed.
func (s *Server) NotifyListsChanged() {
	s.NotifyToolsChanged()
	s.mu.RLock()
	var res, prompt *ToolInfo
	for _, e := range s.entryOrder {
		switch {
		case e.Kind == KindPrompt && prompt == nil:
			prompt = e
		case e.Kind != KindPrompt && res == nil:
			res = e
		}
	}
	s.mu.RUnlock()
	// As for tools, re-adding an unchanged entry is the SDK's one public
	// way to send notifications/{resources,prompts}/list_changed.
	if res != nil {
		s.addToSDK(res)
	}
	if prompt != nil {
		s.addToSDK(prompt)
	}
}
