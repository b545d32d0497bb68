package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// Client-facing messages for the refusals. Each names what happened and
// what to do; the database's own error is the internal cause, which goes to
// the audit record and never to the client.
const (
	msgReadOnly    = "refused: the database rejected this statement as a write in a read-only session; this server only reads"
	msgPermission  = "refused: the database role this server uses is not permitted to do this; it may only read the schemas list_schemas shows"
	msgMultiple    = "refused: send exactly one SQL statement per call; the database does not accept several statements in one"
	msgTransaction = "refused: this statement cannot run inside the read-only transaction every call uses"
	msgUnavailable = "the database is unavailable or out of connections; try again shortly"
)

// classify turns a database error into what the caller may see. Refusals
// (writes, missing privileges, timeouts) get a fixed message; mistakes in
// the caller's SQL (a syntax error, an unknown column) get the database's
// one-line message and SQLSTATE so the model can correct them, without the
// detail, hint or context fields. Anything else is internal. The full error
// is always the cause.
func classify(err error, timeout time.Duration) error {
	if err == nil {
		return nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return classifyPg(err, pe, timeout)
	}
	if errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) {
		return mcpkit.NewError(mcpkit.CodeTool, timeoutMessage(timeout), err)
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return mcpkit.NewError(mcpkit.CodeUnavailable, msgUnavailable, err)
	}
	return err
}

func classifyPg(err error, pe *pgconn.PgError, timeout time.Duration) error {
	code := pe.Code
	switch {
	case code == "25006": // read_only_sql_transaction
		return mcpkit.NewError(mcpkit.CodeTool, msgReadOnly, err)
	case code == "42501": // insufficient_privilege
		return mcpkit.NewError(mcpkit.CodeTool, msgPermission, err)
	case code == "57014": // query_canceled: our statement_timeout
		return mcpkit.NewError(mcpkit.CodeTool, timeoutMessage(timeout), err)
	case code == "25001" || code == "25P01" || code == "2D000" || (code == "0A000" && strings.Contains(pe.Message, "transaction")):
		// active_sql_transaction (VACUUM, CREATE DATABASE),
		// no_active_sql_transaction, invalid_transaction_termination.
		return mcpkit.NewError(mcpkit.CodeTool, msgTransaction, err)
	case code == "42601" && strings.Contains(pe.Message, "multiple commands"):
		return mcpkit.NewError(mcpkit.CodeTool, msgMultiple, err)
	case strings.HasPrefix(code, "08") || strings.HasPrefix(code, "53") || strings.HasPrefix(code, "57P"):
		// connection exceptions, insufficient resources (too many
		// connections), admin shutdown.
		return mcpkit.NewError(mcpkit.CodeUnavailable, msgUnavailable, err)
	}
	switch code[:2] {
	case "42", "22", "21", "0A", "54", "2F", "38", "39", "3F", "P0", "40", "55", "44", "23", "3D", "3B", "2B", "24", "26", "34":
		// The caller's SQL is at fault: tell them how.
		msg := fmt.Sprintf("query failed: %s (SQLSTATE %s", pe.Message, code)
		if pe.Position > 0 {
			msg += fmt.Sprintf(", at character %d", pe.Position)
		}
		return mcpkit.NewError(mcpkit.CodeTool, msg+")", err)
	}
	return err
}

func timeoutMessage(timeout time.Duration) string {
	return fmt.Sprintf("refused: the statement ran longer than the %s statement timeout and the database cancelled it; narrow it (WHERE, LIMIT) or use explain_query to see its plan", timeout)
}
