// Package pgstate keeps the state a fleet of mcpkit replicas must share in
// PostgreSQL: the single-use approval states, the console's pending
// requests and decisions, and shared rate limits.
//
// It is its own module so that only servers that run a fleet link pgx.
//
// # Schema
//
// Migrate creates the package's tables in a schema of their own (default
// "mcpkit"). Migrations are embedded, numbered, applied in order inside one
// transaction under an advisory lock, and recorded in
// <schema>.schema_migrations, so running Migrate from every replica at
// start-up is safe: the first applies, the others find nothing to do. A
// database that holds a migration this build does not know is refused (an
// older binary must not run against a newer schema).
package pgstate
