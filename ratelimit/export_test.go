package ratelimit

import "time"

// SetClock makes m read the time from now instead of time.Now.
func SetClock(m *Memory, now func() time.Time) { m.now = now }

// SetGateClock makes g's fallback (WithFallback) read the time from now.
func SetGateClock(g *Gate, now func() time.Time) {
	g.fallback.now = now
	g.fallback.local.now = now
}
