package main

import (
	"fmt"
	"slices"
	"strings"
)

// This file is layer 3, the courtesy: it answers obviously-write SQL with a
// clear message before the database is asked. It is deliberately simple and
// is NOT what keeps the database safe: the role (setup.sql) and the
// read-only transaction are. A statement it lets through is refused by the
// database if it writes; the tests run every write attempt with this check
// turned off to prove it.

// readVerbs are the statements the query tool accepts.
var readVerbs = []string{"SELECT", "WITH", "VALUES", "TABLE", "SHOW", "EXPLAIN"}

// explainable are the statements explain_query accepts.
var explainable = []string{"SELECT", "WITH", "VALUES", "TABLE"}

// writeVerbs start a data-modifying statement; after "(" they make a
// writable CTE.
var writeVerbs = []string{"INSERT", "UPDATE", "DELETE", "MERGE"}

// checkStatement returns a friendly refusal for SQL that is obviously not a
// single read, or nil. allowed lists the statement verbs accepted first.
func checkStatement(sql string, allowed []string) error {
	toks := tokenize(sql)
	if len(toks) == 0 {
		return fmt.Errorf("sql has no statement (only whitespace or comments)")
	}
	for i, t := range toks {
		if t == ";" && i < len(toks)-1 && !allSemicolons(toks[i+1:]) {
			return fmt.Errorf("refused: send exactly one SQL statement per call (found a second statement after ';')")
		}
	}
	first := 0
	for first < len(toks) && toks[first] == "(" {
		first++
	}
	if first == len(toks) {
		return fmt.Errorf("sql has no statement")
	}
	verb := toks[first]
	if verb == "EXPLAIN" && slices.Contains(allowed, "EXPLAIN") {
		// EXPLAIN [ANALYZE] [VERBOSE] [(options)] statement: judge the
		// statement, since ANALYZE runs it.
		i := first + 1
		for i < len(toks) && (toks[i] == "ANALYZE" || toks[i] == "ANALYSE" || toks[i] == "VERBOSE") {
			i++
		}
		if i < len(toks) && toks[i] == "(" {
			for i < len(toks) && toks[i] != ")" {
				i++
			}
			i++
		}
		if i < len(toks) && !slices.Contains(explainable, toks[i]) {
			return refuseVerb(toks[i], explainable)
		}
	} else if !slices.Contains(allowed, verb) {
		return refuseVerb(verb, allowed)
	}
	for i := first; i < len(toks)-1; i++ {
		if toks[i] == "(" && slices.Contains(writeVerbs, toks[i+1]) {
			return fmt.Errorf("refused: %s inside WITH (a data-modifying CTE) writes; this server only reads", toks[i+1])
		}
		if toks[i] == "INTO" && verb == "SELECT" {
			return fmt.Errorf("refused: SELECT ... INTO creates a table; this server only reads")
		}
	}
	return nil
}

func refuseVerb(verb string, allowed []string) error {
	if len(verb) > 32 || verb == "(" || verb == ")" || verb == ";" || verb == "?" {
		verb = "this statement"
	}
	return fmt.Errorf("refused: %s is not a read; this tool accepts one %s statement", verb, strings.Join(allowed, ", "))
}

func allSemicolons(toks []string) bool {
	for _, t := range toks {
		if t != ";" {
			return false
		}
	}
	return true
}

// tokenize returns the upper-cased words and the punctuation ( ) ; of sql,
// skipping whitespace, comments, string and dollar-quoted literals and
// quoted identifiers, which may contain anything. Any other character is
// returned as "?".
func tokenize(sql string) []string {
	var toks []string
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case strings.HasPrefix(sql[i:], "--"):
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
		case strings.HasPrefix(sql[i:], "/*"):
			i = skipBlockComment(sql, i)
		case c == '\'':
			i = skipQuoted(sql, i, '\'', false)
			toks = append(toks, "?")
		case c == '"':
			i = skipQuoted(sql, i, '"', false)
			toks = append(toks, "?")
		case c == '$':
			i = skipDollar(sql, i)
			toks = append(toks, "?")
		case c == '(' || c == ')' || c == ';':
			toks = append(toks, string(c))
			i++
		case isIdentStart(c):
			j := i + 1
			for j < len(sql) && isIdentPart(sql[j]) {
				j++
			}
			w := strings.ToUpper(sql[i:j])
			if j < len(sql) && sql[j] == '\'' && (w == "E" || w == "X" || w == "B" || w == "U&" || w == "N") {
				// A prefixed literal: E'...' (backslash escapes), X'...'.
				i = skipQuoted(sql, j, '\'', w == "E")
				toks = append(toks, "?")
				continue
			}
			toks = append(toks, w)
			i = j
		default:
			toks = append(toks, "?")
			i++
		}
	}
	return toks
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isIdentPart(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' || c == '$' }

// skipBlockComment skips a /* */ comment, which nests in PostgreSQL.
func skipBlockComment(s string, i int) int {
	depth := 0
	for i < len(s) {
		switch {
		case strings.HasPrefix(s[i:], "/*"):
			depth++
			i += 2
		case strings.HasPrefix(s[i:], "*/"):
			depth--
			i += 2
			if depth == 0 {
				return i
			}
		default:
			i++
		}
	}
	return i
}

// skipQuoted skips a literal or identifier quoted with q, where a doubled q
// is an escaped q and, in E” strings, so is a backslash-escaped one.
func skipQuoted(s string, i int, q byte, backslash bool) int {
	for i++; i < len(s); i++ {
		switch {
		case backslash && s[i] == '\\':
			i++
		case s[i] == q:
			if i+1 < len(s) && s[i+1] == q {
				i++
				continue
			}
			return i + 1
		}
	}
	return i
}

// skipDollar skips $tag$...$tag$, or a positional parameter such as $1.
func skipDollar(s string, i int) int {
	j := i + 1
	for j < len(s) && (isIdentPart(s[j]) && s[j] != '$') {
		j++
	}
	if j >= len(s) || s[j] != '$' || (j > i+1 && s[i+1] >= '0' && s[i+1] <= '9') {
		// Not a dollar quote: a parameter ($1) or a stray '$'.
		for i++; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		}
		return i
	}
	tag := s[i : j+1]
	end := strings.Index(s[j+1:], tag)
	if end < 0 {
		return len(s)
	}
	return j + 1 + end + len(tag)
}
