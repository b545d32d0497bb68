package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	neturl "net/url"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
)

// KeySource finds the public key a JWT names by its kid.
type KeySource interface {
	// LookupKey returns the key with id kid (kid may be empty when the
	// source holds exactly one key). An unknown kid wraps ErrInvalidToken.
	LookupKey(ctx context.Context, kid string) (jwk.Key, error)
}

// StaticKeys is a fixed key set, for servers whose issuer publishes no JWKS
// URL or for tests.
func StaticKeys(set jwk.Set) KeySource { return staticKeys{set} }

type staticKeys struct{ set jwk.Set }

func (s staticKeys) LookupKey(_ context.Context, kid string) (jwk.Key, error) {
	return lookup(s.set, kid)
}

func lookup(set jwk.Set, kid string) (jwk.Key, error) {
	if set == nil || set.Len() == 0 {
		return nil, fmt.Errorf("%w: no verification keys available", ErrInvalidToken)
	}
	if kid == "" {
		if set.Len() == 1 {
			k, _ := set.Key(0)
			return k, nil
		}
		return nil, fmt.Errorf("%w: token has no kid and the key set has %d keys", ErrInvalidToken, set.Len())
	}
	if k, ok := set.LookupKeyID(kid); ok {
		return k, nil
	}
	return nil, fmt.Errorf("%w: unknown kid %q", ErrInvalidToken, kid)
}

// RemoteJWKS fetches an issuer's JWKS and caches it. An unknown kid
// triggers a refresh (key rotation), at most once per MinRefresh, so that a
// flood of tokens with made-up kids cannot hammer the issuer. When the
// JWKS server is down the cached keys keep working; with no keys at all
// every token is invalid.
type RemoteJWKS struct {
	url        string
	client     *http.Client
	ttl        time.Duration
	minRefresh time.Duration
	logger     *slog.Logger
	now        func() time.Time

	mu          sync.RWMutex
	set         jwk.Set
	fetched     time.Time
	lastAttempt time.Time
	fetchMu     sync.Mutex // one fetch at a time
}

// JWKSOption configures a RemoteJWKS.
type JWKSOption func(*RemoteJWKS)

// WithJWKSClient sets the HTTP client (default: 10s timeout).
func WithJWKSClient(c *http.Client) JWKSOption { return func(r *RemoteJWKS) { r.client = c } }

// WithJWKSTTL sets how long fetched keys are used before a refresh is
// attempted (default 15m). Stale keys keep working while refreshes fail.
func WithJWKSTTL(d time.Duration) JWKSOption { return func(r *RemoteJWKS) { r.ttl = d } }

// WithJWKSMinRefresh sets the least time between two fetches (default 30s).
func WithJWKSMinRefresh(d time.Duration) JWKSOption {
	return func(r *RemoteJWKS) { r.minRefresh = d }
}

// WithJWKSLogger sets where fetch failures are logged.
func WithJWKSLogger(l *slog.Logger) JWKSOption { return func(r *RemoteJWKS) { r.logger = l } }

// withJWKSClock replaces time.Now (tests: export_test.go).
func withJWKSClock(now func() time.Time) JWKSOption { return func(r *RemoteJWKS) { r.now = now } }

// NewRemoteJWKS returns a key source for the JWKS at url. It does not
// fetch until the first token arrives; call Refresh to fetch at start-up. A
// url that is not an absolute http(s) URL, a nil client or a TTL that is
// not positive is an error.
func NewRemoteJWKS(url string, opts ...JWKSOption) (*RemoteJWKS, error) {
	r := &RemoteJWKS{
		url:        url,
		client:     &http.Client{Timeout: 10 * time.Second},
		ttl:        15 * time.Minute,
		minRefresh: 30 * time.Second,
		now:        time.Now,
	}
	for _, o := range opts {
		o(r)
	}
	var errs []error
	if u, err := neturl.Parse(url); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		errs = append(errs, fmt.Errorf("transport: NewRemoteJWKS needs an absolute http(s) URL, got %q", url))
	}
	if r.client == nil {
		errs = append(errs, errors.New("transport: WithJWKSClient needs a client, got nil"))
	}
	if r.ttl <= 0 {
		errs = append(errs, fmt.Errorf("transport: WithJWKSTTL needs a positive duration, got %v", r.ttl))
	}
	if r.minRefresh < 0 {
		errs = append(errs, fmt.Errorf("transport: WithJWKSMinRefresh needs a duration of at least 0, got %v", r.minRefresh))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if r.logger == nil {
		r.logger = slog.New(slog.DiscardHandler)
	}
	return r, nil
}

// LookupKey implements KeySource.
func (r *RemoteJWKS) LookupKey(ctx context.Context, kid string) (jwk.Key, error) {
	r.mu.RLock()
	set, fresh := r.set, r.set != nil && r.now().Sub(r.fetched) < r.ttl
	r.mu.RUnlock()
	if set != nil {
		if k, err := lookup(set, kid); err == nil {
			if !fresh {
				r.maybeRefresh(ctx)
			}
			return k, nil
		}
	}
	// Unknown kid or nothing cached: the issuer may have rotated keys.
	r.maybeRefresh(ctx)
	r.mu.RLock()
	set = r.set
	r.mu.RUnlock()
	return lookup(set, kid)
}

// maybeRefresh fetches unless a fetch happened within minRefresh. Failures
// keep the cached keys.
func (r *RemoteJWKS) maybeRefresh(ctx context.Context) {
	r.fetchMu.Lock()
	defer r.fetchMu.Unlock()
	r.mu.RLock()
	recent := !r.lastAttempt.IsZero() && r.now().Sub(r.lastAttempt) < r.minRefresh
	r.mu.RUnlock()
	if recent {
		return
	}
	if err := r.refresh(ctx); err != nil {
		r.logger.Warn("jwks: refresh failed; keeping cached keys", "url", r.url, "error", err)
	}
}

// Refresh fetches the key set now.
func (r *RemoteJWKS) Refresh(ctx context.Context) error {
	r.fetchMu.Lock()
	defer r.fetchMu.Unlock()
	return r.refresh(ctx)
}

func (r *RemoteJWKS) refresh(ctx context.Context) error {
	r.mu.Lock()
	r.lastAttempt = r.now()
	r.mu.Unlock()
	// The fetch outlives a cancelled request: other requests wait for it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", r.url, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	set, err := jwk.Parse(body)
	if err != nil {
		return fmt.Errorf("parse JWKS: %w", err)
	}
	if set.Len() == 0 {
		return errors.New("JWKS has no keys")
	}
	r.mu.Lock()
	r.set, r.fetched = set, r.now()
	r.mu.Unlock()
	return nil
}
