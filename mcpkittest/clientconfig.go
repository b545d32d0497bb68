package mcpkittest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/mcpkit-go/mcpkit/internal/loopback"
	"github.com/mcpkit-go/mcpkit/serve"
)

// ClientFile is one MCP client's configuration file, as a path relative to
// the directory CheckClientConfigs reads. Each client reads
// {"mcpServers": {...}} but spells the transport and environment
// expansion its own way.
type ClientFile string

// The client configuration files CheckClientConfigs knows.
const (
	ClaudeCodeConfig ClientFile = "claude-code/.mcp.json"
	CursorConfig     ClientFile = "cursor/.cursor/mcp.json"
	ClineConfig      ClientFile = "cline/cline_mcp_settings.json"
)

var knownClientFiles = []ClientFile{ClaudeCodeConfig, CursorConfig, ClineConfig}

// ClientConfigOption tunes CheckClientConfigs.
type ClientConfigOption func(*clientCheck)

type clientCheck struct {
	files   []ClientFile
	httpURL string // exact URL of the HTTP entries; empty: loopback
	errs    []error
}

// WithClientFiles sets which client files the directory must hold (by
// default all three: ClaudeCodeConfig, CursorConfig, ClineConfig), for a
// server that ships configurations for some clients only. An empty list,
// an unknown file or one named twice is an error.
func WithClientFiles(files ...ClientFile) ClientConfigOption {
	return func(c *clientCheck) {
		if len(files) == 0 {
			c.errs = append(c.errs, errors.New("mcpkittest: WithClientFiles: no file"))
			return
		}
		for i, f := range files {
			if !slices.Contains(knownClientFiles, f) {
				c.errs = append(c.errs, fmt.Errorf("mcpkittest: WithClientFiles: unknown client file %q (want %s, %s or %s)", f, ClaudeCodeConfig, CursorConfig, ClineConfig))
			} else if slices.Contains(files[:i], f) {
				c.errs = append(c.errs, fmt.Errorf("mcpkittest: WithClientFiles: %q named twice", f))
			}
		}
		c.files = files
	}
}

// WithHTTPURL sets the exact URL the HTTP entries must connect to, for a
// server deployed behind its own host name. It must be an https URL, or
// an http URL on a loopback address (a token must not cross a network in
// clear); anything else is an error. Without it an HTTP entry must use
// http://127.0.0.1:PORT/mcp, what `-http 127.0.0.1:PORT` serves.
func WithHTTPURL(rawURL string) ClientConfigOption {
	return func(c *clientCheck) {
		u, err := url.Parse(rawURL)
		switch {
		case err != nil:
			c.errs = append(c.errs, fmt.Errorf("mcpkittest: WithHTTPURL: %w", err))
		case u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
			c.errs = append(c.errs, fmt.Errorf("mcpkittest: WithHTTPURL(%q): want an absolute http or https URL", rawURL))
		case u.Scheme == "http" && !loopback.Host(u.Hostname()):
			c.errs = append(c.errs, fmt.Errorf("mcpkittest: WithHTTPURL(%q): plain http only on a loopback address; use https", rawURL))
		default:
			c.httpURL = rawURL
		}
	}
}

// CheckClientConfigs checks the MCP client configuration files a server
// keeps for its users under dir (clients/ in the examples), so that a
// release cannot ship a configuration that runs an old version, passes a
// flag the server refuses, or holds a token. pkg is the import path of the
// server's main package and cfg the serve.Config it runs with. Together
// the files must hold, for each client, exactly one entry named
// cfg.Name+"-stdio" and one cfg.Name+"-http":
//
//   - the stdio entry runs `go run pkg@v<cfg.Version>` with arguments that
//     serve.FlagSet(cfg) accepts, and no -http;
//   - the HTTP entry has the client's streamable HTTP type ("http" for
//     Claude Code, none for Cursor, "streamableHttp" for Cline), the URL
//     (see WithHTTPURL) and an Authorization header that takes the token
//     from the user's environment: ${VAR} for Claude Code, ${env:VAR} for
//     Cursor, and for Cline, which expands nothing, a REPLACE_WITH_...
//     placeholder.
//
// Files are read strictly: an unknown field (a typo a client would ignore
// silently) is an error, and so is a .json file under dir that is not one
// of the expected client files. The error lists every problem, each with
// its file and entry. Invalid arguments or options are errors too.
func CheckClientConfigs(dir, pkg string, cfg serve.Config, opts ...ClientConfigOption) error {
	c := clientCheck{files: knownClientFiles}
	for _, o := range opts {
		o(&c)
	}
	if dir == "" {
		c.errs = append(c.errs, errors.New("mcpkittest: CheckClientConfigs: empty directory"))
	}
	if pkg == "" || strings.ContainsAny(pkg, "@ \t") {
		c.errs = append(c.errs, fmt.Errorf("mcpkittest: CheckClientConfigs: package %q: want the import path of the server's main package, without a version", pkg))
	}
	if cfg.Name == "" || cfg.Version == "" {
		c.errs = append(c.errs, errors.New("mcpkittest: CheckClientConfigs: cfg.Name and cfg.Version are required"))
	}
	if err := errors.Join(c.errs...); err != nil {
		return err
	}
	return c.check(dir, pkg, cfg)
}

func (c *clientCheck) check(dir, pkg string, cfg serve.Config) error {
	var errs []error
	present, err := jsonFiles(dir)
	if err != nil {
		return err
	}
	for _, f := range present {
		if !slices.Contains(c.files, ClientFile(f)) {
			errs = append(errs, fmt.Errorf("%s: not a client file this check expects (%s)", f, joinFiles(c.files)))
		}
	}
	for _, file := range c.files {
		servers, err := readClientFile(dir, file)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		seen := map[string]int{}
		for _, s := range servers {
			seen[s.name]++
			if err := c.checkEntry(s, pkg, cfg); err != nil {
				errs = append(errs, err)
			}
		}
		for _, n := range []string{cfg.Name + "-stdio", cfg.Name + "-http"} {
			if seen[n] != 1 {
				errs = append(errs, fmt.Errorf("%s: want one %q entry", file, n))
			}
		}
	}
	return errors.Join(errs...)
}

func joinFiles(files []ClientFile) string {
	s := make([]string, len(files))
	for i, f := range files {
		s[i] = string(f)
	}
	return strings.Join(s, ", ")
}

// clientEntry is one server entry of a client's configuration file: the
// union of the fields the three clients read.
type clientEntry struct {
	file ClientFile
	name string

	Type    string            `json:"type,omitempty"`
	Command string            `json:"command,omitempty"`
	Args    []string          `json:"args,omitempty"`
	Env     map[string]string `json:"env,omitempty"`
	URL     string            `json:"url,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	// Cline's own fields.
	Disabled    *bool    `json:"disabled,omitempty"`
	AutoApprove []string `json:"autoApprove,omitempty"`
}

// readClientFile reads one client file strictly.
func readClientFile(dir string, file ClientFile) ([]clientEntry, error) {
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(string(file))))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var doc struct {
		MCPServers map[string]json.RawMessage `json:"mcpServers"`
	}
	if err := strictJSON(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(doc.MCPServers) == 0 {
		return nil, fmt.Errorf("%s: no mcpServers", file)
	}
	var out []clientEntry
	for name, raw := range doc.MCPServers {
		s := clientEntry{file: file, name: name}
		if err := strictJSON(raw, &s); err != nil {
			return nil, fmt.Errorf("%s: server %q: %w", file, name, err)
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b clientEntry) int { return strings.Compare(a.name, b.name) })
	return out, nil
}

func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// envToken matches an Authorization header whose token comes from the
// user's environment, in each client's syntax.
var envToken = map[ClientFile]*regexp.Regexp{
	ClaudeCodeConfig: regexp.MustCompile(`^Bearer \$\{[A-Z][A-Z0-9_]*\}$`),
	CursorConfig:     regexp.MustCompile(`^Bearer \$\{env:[A-Z][A-Z0-9_]*\}$`),
	ClineConfig:      regexp.MustCompile(`^Bearer REPLACE_WITH_[A-Z0-9_]+$`),
}

// httpType is the transport type each client needs for streamable HTTP
// (Cursor infers it from url).
var httpType = map[ClientFile]string{ClaudeCodeConfig: "http", CursorConfig: "", ClineConfig: "streamableHttp"}

var loopbackMCP = regexp.MustCompile(`^http://127\.0\.0\.1:[0-9]+/mcp$`)

// checkEntry reports what is wrong with s as an entry for cfg's server.
func (c *clientCheck) checkEntry(s clientEntry, pkg string, cfg serve.Config) error {
	var errs []error
	switch s.name {
	case cfg.Name + "-stdio":
		pin := pkg + "@v" + cfg.Version
		if s.Command != "go" || len(s.Args) < 2 || s.Args[0] != "run" || s.Args[1] != pin {
			errs = append(errs, fmt.Errorf("want command go with args [run %s ...], got %s %q", pin, s.Command, s.Args))
			break
		}
		fs := serve.FlagSet(cfg)
		if err := fs.Parse(s.Args[2:]); err != nil {
			errs = append(errs, fmt.Errorf("flags %q: %w", s.Args[2:], err))
		} else if fs.NArg() > 0 {
			errs = append(errs, fmt.Errorf("flags %q: unexpected arguments %q", s.Args[2:], fs.Args()))
		} else if fs.Lookup("http").Value.String() != "" {
			errs = append(errs, errors.New("a stdio entry must not pass -http"))
		}
		if s.URL != "" || len(s.Headers) > 0 {
			errs = append(errs, errors.New("a stdio entry has no url or headers"))
		}
	case cfg.Name + "-http":
		if s.Type != httpType[s.file] {
			errs = append(errs, fmt.Errorf("type %q, want %q", s.Type, httpType[s.file]))
		}
		if c.httpURL != "" && s.URL != c.httpURL {
			errs = append(errs, fmt.Errorf("url %q: want %s", s.URL, c.httpURL))
		} else if c.httpURL == "" && !loopbackMCP.MatchString(s.URL) {
			errs = append(errs, fmt.Errorf("url %q: want http://127.0.0.1:PORT/mcp (or the URL given with WithHTTPURL)", s.URL))
		}
		if auth := s.Headers["Authorization"]; !envToken[s.file].MatchString(auth) {
			errs = append(errs, fmt.Errorf("the Authorization header %q: want the token from the environment (%s)", auth, envToken[s.file]))
		}
		if s.Command != "" || len(s.Args) > 0 {
			errs = append(errs, errors.New("an HTTP entry has no command"))
		}
	default:
		errs = append(errs, fmt.Errorf("unexpected server name %q: want %s-stdio or %s-http", s.name, cfg.Name, cfg.Name))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%s: %s: %w", s.file, s.name, err)
	}
	return nil
}

// jsonFiles lists the .json files under dir, relative to it, so that no
// client file goes unchecked.
func jsonFiles(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".json") {
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	return out, err
}
