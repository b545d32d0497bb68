package main

import (
	"encoding/json"
	"math"
	"strconv"

	invopop "github.com/invopop/jsonschema"
	"github.com/jackc/pgx/v5/pgconn"
)

// Row is one result row, already encoded as a JSON array in column order.
// Rows are encoded as they are read so that the size limit is checked
// against the bytes the client will receive.
type Row json.RawMessage

// MarshalJSON returns the encoded row.
func (r Row) MarshalJSON() ([]byte, error) { return r, nil }

// UnmarshalJSON keeps the encoded row, so a client can decode results into
// QueryOut too.
func (r *Row) UnmarshalJSON(b []byte) error {
	*r = append((*r)[:0], b...)
	return nil
}

// JSONSchema describes a row in the output schema.
func (Row) JSONSchema() *invopop.Schema {
	return &invopop.Schema{Type: "array", Description: "Values in column order: null, booleans, integers, floats and json/jsonb as JSON; numeric, dates, times and every other type as PostgreSQL's text form (numeric stays exact)"}
}

// Type OIDs with a natural JSON form. Results are read in the text format
// (QueryExecModeExec), so every other type is returned as the text
// PostgreSQL prints, which is exact and what a person would read in psql.
const (
	oidBool    = 16
	oidInt8    = 20
	oidInt2    = 21
	oidInt4    = 23
	oidOID     = 26
	oidJSON    = 114
	oidFloat4  = 700
	oidFloat8  = 701
	oidJSONB   = 3802
	textFormat = 0
)

const hexDigits = "0123456789abcdef"

// appendRow appends the JSON array of one row to b.
func appendRow(b []byte, fds []pgconn.FieldDescription, vals [][]byte) []byte {
	b = append(b, '[')
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		var oid uint32
		var format int16
		if i < len(fds) {
			oid, format = fds[i].DataTypeOID, fds[i].Format
		}
		b = appendValue(b, oid, format, v)
	}
	return append(b, ']')
}

func appendValue(b []byte, oid uint32, format int16, v []byte) []byte {
	if v == nil {
		return append(b, "null"...)
	}
	if format != textFormat {
		// Not expected in text mode; never guess at binary data.
		b = append(b, `"\\x`...)
		for _, c := range v {
			b = append(b, hexDigits[c>>4], hexDigits[c&15])
		}
		return append(b, '"')
	}
	switch oid {
	case oidBool:
		if len(v) == 1 && v[0] == 't' {
			return append(b, "true"...)
		}
		if len(v) == 1 && v[0] == 'f' {
			return append(b, "false"...)
		}
	case oidInt2, oidInt4, oidInt8, oidOID:
		if _, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return append(b, v...)
		}
	case oidFloat4, oidFloat8:
		if f, err := strconv.ParseFloat(string(v), 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return strconv.AppendFloat(b, f, 'g', -1, 64)
		}
	case oidJSON, oidJSONB:
		if json.Valid(v) {
			return append(b, v...)
		}
	}
	s, _ := json.Marshal(string(v))
	return append(b, s...)
}
