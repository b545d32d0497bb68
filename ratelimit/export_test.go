package ratelimit

import "time"

// SetClock makes m read the time from now instead of time.Now.
func SetClock(m *Memory, now func() time.Time) { m.now = now }
