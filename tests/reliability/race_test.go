//go:build race

package reliability

// raceEnabled: the race detector slows each call several times over, so
// the default soak is smaller (see defaultSoakCalls).
const raceEnabled = true
