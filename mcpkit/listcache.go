package mcpkit

import (
	"fmt"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Cache scopes of a list result (protocol 2026-07-28), as in HTTP
// Cache-Control.
const (
	// CacheScopePrivate: only the requesting user's client may keep the
	// result; it must never be shared across authorization contexts.
	CacheScopePrivate = "private"
	// CacheScopePublic: any client or intermediary may keep and share it.
	CacheScopePublic = "public"
)

// maxListTTL bounds WithListTTL: a client trusting a day-old list misses
// every flag flip and scope change since.
const maxListTTL = 24 * time.Hour

// WithListTTL sets how long a client may keep a tools/list,
// resources/list, resources/templates/list or prompts/list result before
// asking again (the result's ttlMs; default 0: always stale). d must be
// between 0 and 24h; sub-millisecond parts are dropped. Whatever d, a list
// the gates filter per caller is marked cacheScope "private".
func WithListTTL(d time.Duration) Option {
	return func(c *config) {
		if d < 0 || d > maxListTTL {
			c.errs = append(c.errs, fmt.Errorf("mcpkit: WithListTTL(%v): the time to live must be between 0 and %v", d, maxListTTL))
			return
		}
		c.listTTLMs = int(d / time.Millisecond)
	}
}

// setCaching decides a list result's cache fields: private whenever a
// gate can make the list differ by caller (scopes, flags, any gate of the
// team's), public only without gates, where every caller sees the same
// entries. It never keeps a public scope an inner layer chose over a
// filtered list. It serves the four lists and resources/read; the list
// time to live applies to lists only, a read keeps its handler's.
func (s *Server) setCaching(c *mcp.Cacheable, list bool) {
	if c == nil {
		return
	}
	if list {
		c.TTLMs = s.listTTLMs
	}
	if len(s.gates) > 0 {
		c.CacheScope = CacheScopePrivate
	} else if c.CacheScope == "" {
		c.CacheScope = CacheScopePublic
	}
}
