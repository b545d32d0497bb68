package transport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// IntrospectionConfig configures RFC 7662 token introspection, for opaque
// access tokens.
type IntrospectionConfig struct {
	// Endpoint is the authorization server's introspection URL. Required.
	Endpoint string
	// ClientID and ClientSecret authenticate this server to the endpoint
	// (HTTP Basic).
	ClientID, ClientSecret string
	// Audience is this server's resource URI (RFC 8707): the response's
	// aud must contain it. Required, as for JWTs: an authorization server
	// introspects every token it issued as active, including tokens for
	// its other APIs, and only aud tells them apart.
	Audience string
	// Issuer, when set, must equal the response's iss.
	Issuer string
	// HTTPClient defaults to one with a 10s timeout.
	HTTPClient *http.Client
	// Claims naming the subject, email and groups (default "sub" falling
	// back to "username", "email", "groups").
	SubjectClaim, EmailClaim, GroupsClaim string
}

// Introspector authenticates opaque tokens by asking the authorization
// server. The endpoint being down refuses the request (ErrUnavailable).
type Introspector struct{ cfg IntrospectionConfig }

// NewIntrospector checks cfg and returns an authenticator.
func NewIntrospector(cfg IntrospectionConfig) (*Introspector, error) {
	if cfg.Endpoint == "" {
		return nil, errors.New("introspection: Endpoint is required")
	}
	if _, err := url.ParseRequestURI(cfg.Endpoint); err != nil {
		return nil, fmt.Errorf("introspection: Endpoint: %w", err)
	}
	if cfg.Audience == "" {
		return nil, errors.New("introspection: Audience (this server's resource URI) is required, so that a token issued for another API is never accepted here")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.EmailClaim == "" {
		cfg.EmailClaim = "email"
	}
	if cfg.GroupsClaim == "" {
		cfg.GroupsClaim = "groups"
	}
	return &Introspector{cfg: cfg}, nil
}

// Authenticate implements Authenticator.
func (in *Introspector) Authenticate(ctx context.Context, token string) (mcpkit.Identity, error) {
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.cfg.Endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return mcpkit.Identity{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if in.cfg.ClientID != "" {
		req.SetBasicAuth(url.QueryEscape(in.cfg.ClientID), url.QueryEscape(in.cfg.ClientSecret))
	}
	resp, err := in.cfg.HTTPClient.Do(req)
	if err != nil {
		return mcpkit.Identity{}, fmt.Errorf("%w: introspection: %w", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return mcpkit.Identity{}, fmt.Errorf("%w: introspection: %s", ErrUnavailable, resp.Status)
	}
	var claims map[string]any
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&claims); err != nil {
		return mcpkit.Identity{}, fmt.Errorf("%w: introspection response: %w", ErrUnavailable, err)
	}
	return in.identity(claims)
}

func (in *Introspector) identity(c map[string]any) (mcpkit.Identity, error) {
	if active, _ := c["active"].(bool); !active {
		return mcpkit.Identity{}, fmt.Errorf("%w: token is not active", ErrInvalidToken)
	}
	if exp, ok := c["exp"].(float64); ok && time.Now().After(time.Unix(int64(exp), 0)) {
		return mcpkit.Identity{}, fmt.Errorf("%w: introspection says exp has passed", ErrExpiredToken)
	}
	if in.cfg.Issuer != "" && c["iss"] != in.cfg.Issuer {
		return mcpkit.Identity{}, fmt.Errorf("%w: issuer %v", ErrInvalidToken, c["iss"])
	}
	if !slices.Contains(anyList(c["aud"]), in.cfg.Audience) {
		return mcpkit.Identity{}, fmt.Errorf("%w: audience %v", ErrInvalidToken, c["aud"])
	}
	id := mcpkit.Identity{AuthMethod: "introspection", Transport: "http"}
	if in.cfg.SubjectClaim != "" {
		id.Subject, _ = c[in.cfg.SubjectClaim].(string)
	} else if id.Subject, _ = c["sub"].(string); id.Subject == "" {
		id.Subject, _ = c["username"].(string)
	}
	if id.Subject == "" {
		return mcpkit.Identity{}, fmt.Errorf("%w: introspection names no subject", ErrInvalidToken)
	}
	id.Email, _ = c[in.cfg.EmailClaim].(string)
	id.Groups = anyList(c[in.cfg.GroupsClaim])
	id.Scopes = anyList(c["scope"])
	return id, nil
}

// anyList reads a claim that is an array of strings (its other elements
// are dropped) or one space-separated string, from an introspection
// answer or a JWT (listClaim).
func anyList(v any) []string {
	switch v := v.(type) {
	case string:
		return strings.Fields(v)
	case []string:
		return slices.Clone(v)
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
