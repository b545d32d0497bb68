package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// DefaultMaxKeys bounds the keys a Memory limiter tracks at once: a key is
// one (subject, tool or risk class) pair, about 200 bytes, so the default
// costs at most about 20 MB.
const DefaultMaxKeys = 100_000

// ErrTooManyKeys is the cause of a refusal when a Memory limiter already
// tracks its maximum of keys, none of them idle: it refuses new keys
// rather than forget a busy caller's count.
var ErrTooManyKeys = errors.New("ratelimit: the limiter tracks its maximum of keys")

// Memory is a Limiter for one replica: a token bucket per key
// (golang.org/x/time/rate), in this process's memory.
//
// A key whose bucket has refilled completely is forgotten: a fresh bucket
// would decide exactly the same, so forgetting it changes no decision. So
// memory holds only keys used within their limit's refill time (Burst /
// rate: 1 s for 20/s, 1 min for 2/m) and never more than the key cap
// (WithMaxKeys). When the cap is reached and no key can be forgotten, a
// new key is refused with ErrTooManyKeys (the gate refuses the call as
// unavailable: fail closed) until one can; keys already tracked carry on.
type Memory struct {
	maxKeys int
	now     func() time.Time

	mu        sync.Mutex
	keys      map[string]*rate.Limiter
	lastSweep time.Time
}

// MemoryOption configures NewMemory.
type MemoryOption func(*memoryConfig)

type memoryConfig struct {
	maxKeys int
	errs    []error
}

// WithMaxKeys bounds the keys tracked at once (default DefaultMaxKeys);
// n must be positive.
func WithMaxKeys(n int) MemoryOption {
	return func(c *memoryConfig) {
		if n <= 0 {
			c.errs = append(c.errs, fmt.Errorf("ratelimit: WithMaxKeys(%d): the cap must be positive", n))
			return
		}
		c.maxKeys = n
	}
}

// NewMemory returns an in-memory limiter.
func NewMemory(opts ...MemoryOption) (*Memory, error) {
	cfg := memoryConfig{maxKeys: DefaultMaxKeys}
	for _, o := range opts {
		o(&cfg)
	}
	if err := errors.Join(cfg.errs...); err != nil {
		return nil, err
	}
	return &Memory{maxKeys: cfg.maxKeys, now: time.Now, keys: map[string]*rate.Limiter{}}, nil
}

// Allow implements Limiter. It never returns an error other than
// ErrTooManyKeys or one for an invalid limit.
func (m *Memory) Allow(_ context.Context, key string, limit Limit) (Decision, error) {
	if err := limit.valid(); err != nil {
		return Decision{}, fmt.Errorf("ratelimit: limit %s: %w", limit, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	b, ok := m.keys[key]
	if !ok {
		if since := now.Sub(m.lastSweep); since >= time.Second || len(m.keys) >= m.maxKeys && since >= 100*time.Millisecond {
			m.sweep(now)
		}
		if len(m.keys) >= m.maxKeys {
			return Decision{}, ErrTooManyKeys
		}
		// A new bucket starts full.
		b = rate.NewLimiter(rate.Limit(limit.perSecond()), limit.burst())
		m.keys[key] = b
	}
	if b.AllowN(now, 1) {
		return Decision{Allowed: true}, nil
	}
	missing := 1 - b.TokensAt(now)
	wait := time.Duration(math.Ceil(missing / float64(b.Limit()) * float64(time.Second)))
	return Decision{RetryAfter: max(wait, time.Millisecond)}, nil
}

// sweep forgets the keys whose bucket has refilled. Called with mu held,
// at most once a second (ten times a second at the cap), so its cost is
// spread over many calls.
func (m *Memory) sweep(now time.Time) {
	m.lastSweep = now
	for k, b := range m.keys {
		if b.TokensAt(now) >= float64(b.Burst()) {
			delete(m.keys, k)
		}
	}
}

// Len returns how many keys are tracked.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.keys)
}
