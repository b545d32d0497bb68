package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestStatementCheck pins what the friendly check says. It is a courtesy
// (TestWritesAreRefusedByTheDatabase runs without it), so what matters is
// that it never refuses an ordinary read and names the obvious writes.
func TestStatementCheck(t *testing.T) {
	reads := []string{
		"SELECT 1",
		"select * from shop.orders where status = 'DELETE'",
		"  -- DELETE FROM x\nSELECT 1",
		"/* DROP TABLE x; /* nested */ */ SELECT 1",
		"SELECT 'a;b', \"odd;name\" FROM t",
		"SELECT $$DELETE FROM t; DROP$$",
		"SELECT $tag$ ; INSERT $tag$",
		"SELECT E'it\\'s; DELETE'",
		"WITH x AS (SELECT 1) SELECT * FROM x",
		"WITH x AS MATERIALIZED (SELECT 1) SELECT * FROM x",
		"(SELECT 1) UNION (SELECT 2)",
		"VALUES (1), (2)",
		"TABLE shop.orders",
		"SHOW search_path",
		"EXPLAIN SELECT 1",
		"EXPLAIN (FORMAT JSON, ANALYZE) SELECT 1",
		"SELECT updated_at, deleted FROM t",
		"SELECT 1;",
		"SELECT 1; ;",
		"SELECT $1::int",
	}
	for _, sql := range reads {
		assert.NoError(t, checkStatement(sql, readVerbs), sql)
	}
	writes := map[string]string{
		"DELETE FROM t":           "refused: DELETE is not a read; this tool accepts one SELECT, WITH, VALUES, TABLE, SHOW, EXPLAIN statement",
		"  update t set x = 1":    "refused: UPDATE is not a read",
		"SELECT 1; DELETE FROM t": "refused: send exactly one SQL statement per call",
		"SELECT 1;DELETE FROM t;": "refused: send exactly one SQL statement per call",
		"WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x":     "refused: DELETE inside WITH (a data-modifying CTE) writes",
		"WITH x AS (insert into t values (1) returning *) SELECT 1": "refused: INSERT inside WITH",
		"SELECT * INTO newtable FROM t":                             "refused: SELECT ... INTO creates a table",
		"EXPLAIN ANALYZE DELETE FROM t":                             "refused: DELETE is not a read",
		"EXPLAIN (ANALYZE) UPDATE t SET x = 1":                      "refused: UPDATE is not a read",
		"COPY t TO PROGRAM 'sh'":                                    "refused: COPY is not a read",
		"SET ROLE postgres":                                         "refused: SET is not a read",
		"BEGIN":                                                     "refused: BEGIN is not a read",
		"":                                                          "sql has no statement",
		"-- only a comment":                                         "sql has no statement",
		"((":                                                        "sql has no statement",
		"'unterminated":                                             "refused: this statement is not a read",
	}
	for sql, want := range writes {
		err := checkStatement(sql, readVerbs)
		if assert.Error(t, err, sql) {
			assert.Contains(t, err.Error(), want, sql)
		}
	}
	assert.Error(t, checkStatement("SHOW search_path", explainable), "explain_query plans statements, not SHOW")
	assert.Equal(t, "SELECT 1", trimStatement("  SELECT 1 ; ;\n"))
}

func FuzzStatementCheck(f *testing.F) {
	for _, s := range []string{"SELECT 1", "$$", "$a$ $a", "E'\\", "/* /*", "\"", "WITH x AS (DELETE"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		// It must never panic or hang, whatever the input.
		_ = checkStatement(sql, readVerbs)
	})
}
