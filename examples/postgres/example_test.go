package main

import (
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
)

// The friendly statement check answers obvious writes before the database
// is asked. It is a courtesy: the database role and the read-only
// transaction are what refuse writes.
func Example_checkStatement() {
	for _, sql := range []string{
		"SELECT * FROM shop.orders WHERE status = 'DELETE'",
		"DELETE FROM shop.orders",
		"SELECT 1; DROP TABLE shop.orders",
		"WITH gone AS (DELETE FROM shop.orders RETURNING *) SELECT * FROM gone",
		"SELECT pg_terminate_backend(42)", // looks like a read: the database refuses it
	} {
		fmt.Println(checkStatement(sql, readVerbs))
	}
	// Output:
	// <nil>
	// refused: DELETE is not a read; this tool accepts one SELECT, WITH, VALUES, TABLE, SHOW, EXPLAIN statement
	// refused: send exactly one SQL statement per call (found a second statement after ';')
	// refused: DELETE inside WITH (a data-modifying CTE) writes; this server only reads
	// <nil>
}

// Rows are read in PostgreSQL's text format and encoded once: booleans,
// integers, floats and JSON natively; numeric, timestamps and everything
// else as the exact text PostgreSQL prints.
func Example_appendRow() {
	fds := []pgconn.FieldDescription{
		{Name: "id", DataTypeOID: oidInt4}, {Name: "vip", DataTypeOID: oidBool},
		{Name: "total", DataTypeOID: 1700}, {Name: "meta", DataTypeOID: oidJSONB},
		{Name: "placed_at", DataTypeOID: 1184}, {Name: "email", DataTypeOID: 25},
	}
	row := [][]byte{[]byte("1"), []byte("t"), []byte("1234567890.12"), []byte(`{"coupon": "SPRING"}`), []byte("2024-02-01 10:00:00+00"), nil}
	fmt.Println(string(appendRow(nil, fds, row)))
	// Output:
	// [1,true,"1234567890.12",{"coupon": "SPRING"},"2024-02-01 10:00:00+00",null]
}
