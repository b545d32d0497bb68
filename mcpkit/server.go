package mcpkit

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Server is an MCP server whose tools are typed functions behind one
// middleware chain. It owns (or wraps) an *mcp.Server, which transports
// serve.
type Server struct {
	mcp       *mcp.Server
	impl      *mcp.Implementation
	outer     []Middleware
	gates     []Gate
	inner     []Middleware
	verbs     []string
	scopes    bool
	maxResult int
	listTTLMs int // tools/list ttlMs (WithListTTL)
	identity  Identity
	resolver  IdentityResolver
	logger    *slog.Logger

	mu    sync.RWMutex
	tools map[string]*ToolInfo
	order []string
	// resources holds resources and templates by name, prompts prompts by
	// name; entryOrder is their registration order; uris indexes the
	// fixed resources by URI and templates lists the templates in
	// registration order, the first match winning.
	resources  map[string]*ToolInfo
	prompts    map[string]*ToolInfo
	entryOrder []*ToolInfo
	uris       map[string]*ToolInfo
	templates  []*ToolInfo

	// subs are the resource subscriptions mcpkit let through, for the
	// update filter (subscribe.go).
	subs subscriptions
	// subscribeOn and completeOn say whether the SDK may answer resource
	// subscriptions and completions: its handlers were given with
	// WithServerOptions, or the server is the team's own (WithMCPServer),
	// whose options mcpkit cannot see. When off, the SDK answers method
	// not found and mcpkit has nothing to decide.
	subscribeOn, completeOn bool
	maxSubs                 int // per session (WithMaxSubscriptions)
}

// NewServer creates a server named by impl (name and version are required:
// they identify the server in every audit record).
func NewServer(impl *mcp.Implementation, opts ...Option) (*Server, error) {
	if impl == nil || impl.Name == "" || impl.Version == "" {
		return nil, errors.New("mcpkit: NewServer needs an implementation with a name and a version")
	}
	cfg := config{verbs: DefaultVerbs(), maxResult: DefaultMaxResultBytes, maxSubs: DefaultMaxSubscriptions}
	for _, o := range opts {
		o(&cfg)
	}
	if err := errors.Join(cfg.errs...); err != nil {
		return nil, err
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	if cfg.identity.AuthMethod == "" {
		cfg.identity.AuthMethod = "none"
	}
	gates, err := resolveScopeGate(cfg.gates, !cfg.noScopes)
	if err != nil {
		return nil, err
	}
	if cfg.noScopes {
		cfg.logger.Warn("mcpkit: scope enforcement is OFF (WithoutScopeEnforcement): Policy.Scopes are not checked; every call must be authorized elsewhere",
			"server", impl.Name)
	}
	s := &Server{
		impl:      impl,
		outer:     slices.Clone(cfg.outer),
		gates:     gates,
		scopes:    !cfg.noScopes,
		maxResult: cfg.maxResult,
		listTTLMs: cfg.listTTLMs,
		inner:     slices.Clone(cfg.inner),
		verbs:     cfg.verbs,
		identity:  cfg.identity,
		resolver:  cfg.resolver,
		logger:    cfg.logger,
		tools:     map[string]*ToolInfo{},
		resources: map[string]*ToolInfo{},
		prompts:   map[string]*ToolInfo{},
		uris:      map[string]*ToolInfo{},
	}
	s.mcp = cfg.mcpServer
	own := cfg.mcpServer != nil
	s.subscribeOn = own || cfg.mcpOptions != nil && cfg.mcpOptions.SubscribeHandler != nil
	s.completeOn = own || cfg.mcpOptions != nil && cfg.mcpOptions.CompletionHandler != nil
	s.maxSubs = cfg.maxSubs
	if s.mcp == nil {
		s.mcp = mcp.NewServer(impl, cfg.mcpOptions)
	}
	s.mcp.AddReceivingMiddleware(s.receive)
	s.mcp.AddSendingMiddleware(s.send)
	return s, nil
}

// MustNewServer is NewServer for start-up code; it panics on error.
func MustNewServer(impl *mcp.Implementation, opts ...Option) *Server {
	s, err := NewServer(impl, opts...)
	if err != nil {
		panic(err)
	}
	return s
}

// MCPServer returns the underlying go-sdk server, for transports and for
// what mcpkit does not wrap (ResourceUpdated, for instance: mcpkit filters
// the notices it sends). Resources and prompts added to it directly bypass
// every gate; register them with AddResource, AddResourceTemplate and
// AddPrompt instead.
func (s *Server) MCPServer() *mcp.Server { return s.mcp }

// ScopesEnforced reports whether the server checks Policy.Scopes (the
// default); false only with WithoutScopeEnforcement.
func (s *Server) ScopesEnforced() bool { return s.scopes }

// Implementation returns the server's name and version.
func (s *Server) Implementation() *mcp.Implementation { return s.impl }

// Tools returns copies of the registered tools in registration order.
// Changing a copy changes nothing the server enforces or sends.
func (s *Server) Tools() []*ToolInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*ToolInfo, 0, len(s.order))
	for _, n := range s.order {
		out = append(out, s.tools[n].clone())
	}
	return out
}

// Tool returns a copy of the registered tool with the given name. Changing
// it changes nothing the server enforces or sends.
func (s *Server) Tool(name string) (*ToolInfo, bool) {
	t, ok := s.tool(name)
	if !ok {
		return nil, false
	}
	return t.clone(), true
}

// tool returns the shared registered tool, for the server's own reads.
func (s *Server) tool(name string) (*ToolInfo, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.tools[name]
	return t, ok
}

// NotifyToolsChanged tells connected clients that the tool list changed,
// for gates whose decisions changed (a flag flipped) without any tool being
// added or removed.
func (s *Server) NotifyToolsChanged() {
	s.mu.RLock()
	if len(s.order) == 0 {
		s.mu.RUnlock()
		return
	}
	info := s.tools[s.order[0]]
	s.mu.RUnlock()
	// The SDK sends notifications/tools/list_changed on every AddTool; re-adding an
	// unchanged tool is the one public way to trigger it.
	s.mcp.AddTool(s.sdkTool(info), s.handlerFor(info))
}

func (s *Server) register(info *ToolInfo, typed Handler, decode func(json.RawMessage) (any, error)) error {
	info.chain = s.build(info, typed, decode)
	s.mu.Lock()
	if _, dup := s.tools[info.Name]; dup {
		s.mu.Unlock()
		return fmt.Errorf("mcpkit: tool %q is already registered", info.Name)
	}
	s.tools[info.Name] = info
	s.order = append(s.order, info.Name)
	s.mu.Unlock()
	s.mcp.AddTool(s.sdkTool(info), s.handlerFor(info))
	return nil
}
