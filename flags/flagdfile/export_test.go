package flagdfile

// WithClock exposes the clock option to this package's tests only.
var WithClock = withClock
