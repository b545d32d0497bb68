package pgstate

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// SafeError returns err as what a database failure may say outside the
// process: its category (could not connect, connection refused or lost,
// timed out, canceled, or PostgreSQL's SQLSTATE code and class), never
// the database user, host, port, database name or connection string that
// pgx's connect and network errors embed. Those end up in logs and in
// audit records' error field, which travel to observability stacks: they
// are reconnaissance for whoever reads them. errors.Is still finds
// context.Canceled, context.DeadlineExceeded, pgx.ErrNoRows and
// pgx.ErrTxClosed, and errors.As a *pgconn.PgError holding only the
// severity and code. Every error pgstate returns or logs has been through
// it; it is exported for the start-up code that connects the pool. nil
// stays nil, and an error already safe is returned as is.
func SafeError(err error) error {
	if err == nil {
		return nil
	}
	var s *safeError
	if errors.As(err, &s) && s == err {
		return err
	}
	out := &safeError{msg: "PostgreSQL request failed"}
	for _, sentinel := range []error{context.Canceled, context.DeadlineExceeded, pgx.ErrNoRows, pgx.ErrTxClosed} {
		if errors.Is(err, sentinel) {
			out.keep = append(out.keep, sentinel)
		}
	}
	var connect *pgconn.ConnectError
	connecting := errors.As(err, &connect)
	var pe *pgconn.PgError
	var errno syscall.Errno
	var dns *net.DNSError
	switch {
	case errors.As(err, &pe):
		code := pe.Code
		out.keep = append(out.keep, &pgconn.PgError{Severity: pe.Severity, Code: code})
		out.msg = "PostgreSQL refused the request: SQLSTATE " + code
		if len(code) == 5 {
			out.msg += " (class " + code[:2] + ")"
		}
	case errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err):
		out.msg = "PostgreSQL did not answer in time"
	case errors.Is(err, context.Canceled):
		out.msg = "the PostgreSQL request was canceled"
	case errors.As(err, &dns):
		out.msg = "PostgreSQL's host name did not resolve"
	case errors.As(err, &errno) && errno == syscall.ECONNREFUSED:
		out.msg = "PostgreSQL refused the connection"
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.As(err, &errno) && (errno == syscall.ECONNRESET || errno == syscall.EPIPE):
		out.msg = "the connection to PostgreSQL was lost"
	case errors.Is(err, pgx.ErrNoRows):
		out.msg = "no rows"
	case errors.Is(err, pgx.ErrTxClosed):
		out.msg = "the transaction is closed"
	}
	if connecting {
		out.msg = "could not connect to PostgreSQL: " + out.msg
	}
	return out
}

// safeError is SafeError's result: a fixed message and the sentinels
// (and scrubbed PostgreSQL error) errors.Is and errors.As still find.
type safeError struct {
	msg  string
	keep []error
}

func (e *safeError) Error() string   { return e.msg }
func (e *safeError) Unwrap() []error { return e.keep }
