package main

import (
	"errors"
	"flag"
	"fmt"
	"time"
)

// Limits a call can never exceed, whatever the flags say.
const (
	defaultMaxRows = 100
	maxMaxRows     = 1000
)

// config is the database side of the server: pool size and per-call limits.
// It is resolved once from flags; every call reads it, none changes it.
type config struct {
	// statementTimeout is applied per call with SET LOCAL statement_timeout;
	// the call's context gets a little longer so that the database, which
	// can say which statement it cancelled, normally answers first.
	statementTimeout time.Duration
	// maxResultBytes bounds the encoded rows of one query result.
	maxResultBytes int
	// maxConns bounds the pool; keep it at or under the role's
	// CONNECTION LIMIT (setup.sql) so that the server never competes with
	// itself for the last connection.
	maxConns int
	// connectTimeout bounds start-up and each new connection.
	connectTimeout time.Duration
	// precheck enables the friendly statement check (layer 3). The tests
	// turn it off to show that the database, not this check, refuses
	// writes.
	precheck bool
}

func defaultConfig() config {
	return config{
		statementTimeout: 5 * time.Second,
		maxResultBytes:   256 << 10,
		maxConns:         4,
		connectTimeout:   10 * time.Second,
		precheck:         true,
	}
}

func (c *config) register(fs *flag.FlagSet) {
	fs.DurationVar(&c.statementTimeout, "statement-timeout", c.statementTimeout, "longest a single tool call may run in the database (SET LOCAL statement_timeout)")
	fs.IntVar(&c.maxResultBytes, "max-result-bytes", c.maxResultBytes, "largest query result, in bytes of JSON rows; longer results are truncated and flagged")
	fs.IntVar(&c.maxConns, "max-conns", c.maxConns, "connection pool size; keep it at or below the role's CONNECTION LIMIT")
	fs.DurationVar(&c.connectTimeout, "connect-timeout", c.connectTimeout, "how long to wait for the database at start-up and for each new connection")
}

func (c *config) validate() error {
	var errs []error
	if c.statementTimeout < time.Millisecond || c.statementTimeout > time.Hour {
		errs = append(errs, fmt.Errorf("-statement-timeout %v: want between 1ms and 1h", c.statementTimeout))
	}
	if c.maxResultBytes < 1024 || c.maxResultBytes > 64<<20 {
		errs = append(errs, fmt.Errorf("-max-result-bytes %d: want between 1024 and %d", c.maxResultBytes, 64<<20))
	}
	if c.maxConns < 1 || c.maxConns > 100 {
		errs = append(errs, fmt.Errorf("-max-conns %d: want between 1 and 100", c.maxConns))
	}
	if c.connectTimeout <= 0 {
		errs = append(errs, errors.New("-connect-timeout must be positive"))
	}
	return errors.Join(errs...)
}
