// Package clientconfig checks the MCP client configuration files an
// example server keeps under clients/ (Claude Code, Cursor, Cline): stdio
// entries pinned to the example's released version with arguments the
// server's flag set accepts, HTTP entries taking their token from the
// environment. It is example tooling: the pin names this repository's
// examples.
package clientconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/mcpkit-go/mcpkit/serve"
)

// Module is the module path the client configurations pin with
// `go run <Module>/examples/<name>@v<version>`.
const Module = "github.com/mcpkit-go/mcpkit"

// The MCP clients whose configuration files a server keeps under
// clients/, by file path: each reads {"mcpServers": {...}} but spells the
// transport and environment expansion its own way.
const (
	ClaudeCode = "claude-code/.mcp.json"
	Cursor     = "cursor/.cursor/mcp.json"
	Cline      = "cline/cline_mcp_settings.json"
)

// ClientServer is one server entry of an MCP client's configuration file.
type ClientServer struct {
	// File is the file it was read from, relative to the clients
	// directory (ClaudeCode, Cursor or Cline); Name is its key.
	File, Name string

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

// ReadClientConfigs reads the three client files under dir strictly: an
// unknown field (a typo a client would silently ignore) is an error.
func ReadClientConfigs(dir string) ([]ClientServer, error) {
	var out []ClientServer
	for _, file := range []string{ClaudeCode, Cursor, Cline} {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(file)))
		if err != nil {
			return nil, err
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
		for name, raw := range doc.MCPServers {
			s := ClientServer{File: file, Name: name}
			if err := strictJSON(raw, &s); err != nil {
				return nil, fmt.Errorf("%s: server %q: %w", file, name, err)
			}
			out = append(out, s)
		}
	}
	return out, nil
}

func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// envRef matches a value that comes from the user's environment in each
// client's documented syntax: ${VAR} (Claude Code), ${env:VAR} (Cursor),
// or, for Cline, which expands nothing, a REPLACE_WITH_ placeholder the
// user fills in their own settings file.
var envRef = map[string]*regexp.Regexp{
	ClaudeCode: regexp.MustCompile(`^Bearer \$\{[A-Z][A-Z0-9_]*\}$`),
	Cursor:     regexp.MustCompile(`^Bearer \$\{env:[A-Z][A-Z0-9_]*\}$`),
	Cline:      regexp.MustCompile(`^Bearer REPLACE_WITH_[A-Z0-9_]+$`),
}

// wantType is the transport type each client needs for streamable HTTP
// (Cursor infers it from url).
var wantType = map[string]string{ClaudeCode: "http", Cursor: "", Cline: "streamableHttp"}

// Check reports what is wrong with s as an entry for the server cfg
// describes: a stdio entry must run `go run` on the example pinned at
// cfg.Version with arguments cfg's flag set accepts; an HTTP entry must
// use the client's streamable HTTP type and take its bearer token from
// the environment, never from the file.
func (s ClientServer) Check(cfg serve.Config) error {
	var errs []error
	switch s.Name {
	case cfg.Name + "-stdio":
		pin := fmt.Sprintf("%s/examples/%s@v%s", Module, cfg.Name, cfg.Version)
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
		if s.Type != wantType[s.File] {
			errs = append(errs, fmt.Errorf("type %q, want %q", s.Type, wantType[s.File]))
		}
		if !strings.HasPrefix(s.URL, "http://127.0.0.1:") || !strings.HasSuffix(s.URL, "/mcp") {
			errs = append(errs, fmt.Errorf("url %q: want http://127.0.0.1:PORT/mcp", s.URL))
		}
		if auth := s.Headers["Authorization"]; !envRef[s.File].MatchString(auth) {
			errs = append(errs, fmt.Errorf("the Authorization header %q: want the token from the environment (%s)", auth, envRef[s.File]))
		}
		if s.Command != "" || len(s.Args) > 0 {
			errs = append(errs, errors.New("an HTTP entry has no command"))
		}
	default:
		errs = append(errs, fmt.Errorf("unexpected server name %q: want %s-stdio or %s-http", s.Name, cfg.Name, cfg.Name))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%s: %s: %w", s.File, s.Name, err)
	}
	return nil
}

// clientFiles lists the JSON files under dir, for tests that make sure no
// client file goes unchecked.
func clientFiles(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".json") {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	return out, err
}

// CheckClientConfigs reads every client file under dir and checks that
// together they hold exactly the stdio and HTTP entries of cfg's server for
// each client, each passing ClientServer.Check. It is what an example's
// test calls.
func CheckClientConfigs(dir string, cfg serve.Config) error {
	files, err := clientFiles(dir)
	if err != nil {
		return err
	}
	known := map[string]bool{ClaudeCode: true, Cursor: true, Cline: true}
	var errs []error
	for _, f := range files {
		if !known[f] {
			errs = append(errs, fmt.Errorf("%s: not a client file this check knows (%s, %s, %s)", f, ClaudeCode, Cursor, Cline))
		}
	}
	servers, err := ReadClientConfigs(dir)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	seen := map[string]int{}
	for _, s := range servers {
		seen[s.File+" "+s.Name]++
		if err := s.Check(cfg); err != nil {
			errs = append(errs, err)
		}
	}
	for f := range known {
		for _, n := range []string{cfg.Name + "-stdio", cfg.Name + "-http"} {
			if seen[f+" "+n] != 1 {
				errs = append(errs, fmt.Errorf("%s: want one %q entry", f, n))
			}
		}
	}
	return errors.Join(errs...)
}
