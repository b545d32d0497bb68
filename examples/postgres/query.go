package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// Query runs one statement read-only and returns at most maxRows rows and
// cfg.maxResultBytes bytes of them.
//
// The statement is sent with the extended protocol (pgx
// QueryExecModeExec): Parse accepts exactly one statement, so
// "SELECT 1; DELETE ..." is refused by the server itself, whatever the
// friendly check thinks. The simple protocol would run both.
func (d *DB) Query(ctx context.Context, sql string, maxRows int) (QueryOut, error) {
	if maxRows <= 0 {
		maxRows = defaultMaxRows
	}
	maxRows = min(maxRows, maxMaxRows)
	sql = trimStatement(sql)
	if err := d.precheck(sql, readVerbs); err != nil {
		return QueryOut{}, err
	}
	out := QueryOut{Rows: []Row{}, Columns: []ResultColumn{}}
	err := d.readUntrusted(ctx, func(ctx context.Context, tx pgx.Tx) error {
		rows, err := tx.Query(ctx, sql)
		if err != nil {
			return err
		}
		defer rows.Close()
		size, buf := 2, []byte(nil)
		for rows.Next() {
			if len(out.Rows) == maxRows {
				out.Truncated, out.TruncatedReason = true, "max_rows"
				break
			}
			buf = appendRow(buf[:0], rows.FieldDescriptions(), rows.RawValues())
			if size+len(buf)+1 > d.cfg.maxResultBytes {
				out.Truncated, out.TruncatedReason = true, "max_bytes"
				break
			}
			size += len(buf) + 1
			out.Rows = append(out.Rows, Row(slices.Clone(buf)))
		}
		typeNames(tx.Conn().TypeMap(), rows.FieldDescriptions(), &out)
		if out.Truncated {
			// Closing reads the rest of the result to discard it; ask the
			// server to stop producing it instead. The transaction is
			// rolled back anyway.
			_ = rows.Conn().PgConn().CancelRequest(ctx)
			rows.Close()
			if err := rows.Err(); err != nil && !isCancel(err) {
				return err
			}
			return nil
		}
		rows.Close()
		return rows.Err()
	})
	if err != nil {
		return QueryOut{}, classify(err, d.cfg.statementTimeout)
	}
	out.RowCount = len(out.Rows)
	return out, nil
}

// isCancel reports a query_canceled error, which after truncation is our
// own cancel request (or the timeout) stopping rows we had discarded.
func isCancel(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "57014"
}

// typeNames fills out.Columns from the field descriptions, naming types
// from the driver's map of built-in types. Others (enums, domains,
// extension types) are shown by OID rather than costing a round trip; their
// values are still returned as text.
func typeNames(tm *pgtype.Map, fds []pgconn.FieldDescription, out *QueryOut) {
	out.Columns = make([]ResultColumn, len(fds))
	for i, fd := range fds {
		out.Columns[i].Name = fd.Name
		if t, ok := tm.TypeForOID(fd.DataTypeOID); ok {
			out.Columns[i].Type = t.Name
			continue
		}
		out.Columns[i].Type = fmt.Sprintf("oid %d", fd.DataTypeOID)
	}
}

// Explain returns the plan of one statement. EXPLAIN without ANALYZE plans
// and never runs the statement; it still runs in the read-only transaction,
// so "EXPLAIN ANALYZE" smuggled into sql would be refused for writes too.
func (d *DB) Explain(ctx context.Context, sql, format string) (ExplainOut, error) {
	var prefix string
	switch format {
	case "", "text":
		format, prefix = "text", "EXPLAIN (FORMAT TEXT) "
	case "json":
		prefix = "EXPLAIN (FORMAT JSON) "
	default:
		return ExplainOut{}, mcpkit.PublicError("format %q: want text or json", format)
	}
	sql = trimStatement(sql)
	if err := d.precheck(sql, explainable); err != nil {
		return ExplainOut{}, err
	}
	var lines []string
	err := d.readUntrusted(ctx, func(ctx context.Context, tx pgx.Tx) error {
		// The statement is necessarily spliced after EXPLAIN: a statement
		// cannot be a bound parameter. That gives it no power it would not
		// have alone: it is still one statement (extended protocol), in
		// the same read-only transaction, as the same role.
		rows, err := tx.Query(ctx, prefix+sql)
		if err != nil {
			return err
		}
		size := 0
		for rows.Next() {
			v := rows.RawValues()
			if len(v) == 0 {
				continue
			}
			if size += len(v[0]) + 1; size > d.cfg.maxResultBytes {
				rows.Close()
				return mcpkit.PublicError("the plan is larger than this server's %d-byte result limit; explain a smaller part of the query", d.cfg.maxResultBytes)
			}
			lines = append(lines, string(v[0]))
		}
		return rows.Err()
	})
	if err != nil {
		return ExplainOut{}, classify(err, d.cfg.statementTimeout)
	}
	out := ExplainOut{Format: format}
	plan := strings.Join(lines, "\n")
	if format == "json" && json.Valid([]byte(plan)) {
		out.PlanJSON = json.RawMessage(plan)
	} else {
		out.PlanText = plan
	}
	return out, nil
}

// precheck runs the friendly statement check, when enabled. Its refusal is
// a courtesy; the database is the guard.
func (d *DB) precheck(sql string, allowed []string) error {
	if !d.cfg.precheck {
		return nil
	}
	if err := checkStatement(sql, allowed); err != nil {
		return mcpkit.NewError(mcpkit.CodeTool, err.Error(), fmt.Errorf("statement check: %w", err))
	}
	return nil
}

// trimStatement drops surrounding whitespace and trailing semicolons, which
// models add out of habit.
func trimStatement(sql string) string {
	sql = strings.TrimSpace(sql)
	for strings.HasSuffix(sql, ";") {
		sql = strings.TrimSpace(strings.TrimSuffix(sql, ";"))
	}
	return sql
}
