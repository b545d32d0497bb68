package pgstate

import (
	"sync"
	"time"
)

// maxRemembered bounds the refusals a Limiter remembers (about 60 bytes
// each); past it, a refusal is not remembered and the next call asks the
// database, which decides the same.
const maxRemembered = 100_000

// refusals remembers, per key, until when the database said no call can be
// allowed. A bucket's theoretical arrival time only moves forward (and a
// row is deleted only once that time has passed), so until then every
// replica's answer would be the same refusal: it is given here, without a
// round trip. This is what keeps a caller hammering one key from queueing
// on that key's row lock and filling the pool the other callers need.
type refusals struct {
	mu        sync.Mutex
	until     map[[32]byte]time.Time
	lastSweep time.Time
}

// get returns how long key stays refused, or false.
func (r *refusals) get(key [32]byte, now time.Time) (time.Duration, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	u, ok := r.until[key]
	if !ok {
		return 0, false
	}
	if !now.Before(u) {
		delete(r.until, key)
		return 0, false
	}
	return u.Sub(now), true
}

// put remembers that key is refused until until.
func (r *refusals) put(key [32]byte, until, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.until == nil {
		r.until = map[[32]byte]time.Time{}
	}
	if len(r.until) >= maxRemembered && now.Sub(r.lastSweep) >= 100*time.Millisecond {
		r.lastSweep = now
		for k, u := range r.until {
			if !now.Before(u) {
				delete(r.until, k)
			}
		}
	}
	if len(r.until) < maxRemembered {
		r.until[key] = until
	}
}
