// Package fleet runs examples/incidents as a fleet: three replicas on
// loopback sharing approval states, console requests and rate limits in a
// throwaway PostgreSQL (internal/pgtest, from the system's server
// binaries), behind a round-robin reverse proxy without sticky routing.
// It checks what a fleet promises: a destructive call approved on one
// replica and answered on another runs once and its approval cannot be
// replayed anywhere; a reviewer approves through any replica's console;
// one identity's rate limit holds across replicas; while PostgreSQL is
// down destructive calls are refused and read-only calls go on; and every
// replica's audit chain verifies and accounts for the calls made.
package fleet
