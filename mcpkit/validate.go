package mcpkit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/jsonschema-go/jsonschema"
)

// maxProblems bounds how many problems one error message lists.
const maxProblems = 5

// parseArguments decodes raw arguments into a generic JSON value for schema
// validation. Numbers decode as float64, as the validator expects; the typed
// decode that follows reads the raw bytes, so no precision reaches the
// handler lost.
func parseArguments(raw json.RawMessage) (map[string]any, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return map[string]any{}, nil
	}
	if raw[0] != '{' {
		return nil, &Error{Code: CodeInvalidInput, Message: "arguments: must be a JSON object"}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, &Error{Code: CodeInvalidInput, Message: "arguments: malformed JSON: " + cleanJSONError(err), Cause: err}
	}
	if dec.More() {
		return nil, &Error{Code: CodeInvalidInput, Message: "arguments: trailing data after the JSON object"}
	}
	return m, nil
}

func cleanJSONError(err error) string {
	msg := err.Error()
	return strings.TrimPrefix(msg, "json: ")
}

// validationError turns a validator failure into a message naming each field
// and rule, for example "arguments.limit: must be <= 100 (got 101)". The
// validator decides; the explainer only finds words for its decision, and
// falls back to the validator's own text when it cannot.
func validationError(s *jsonschema.Schema, instance any, verr error) *Error {
	var problems []string
	explain(s, instance, "arguments", &problems)
	if len(problems) == 0 {
		problems = append(problems, "arguments: "+fallbackMessage(verr))
	}
	if len(problems) > maxProblems {
		n := len(problems) - maxProblems
		problems = append(problems[:maxProblems], fmt.Sprintf("and %d more", n))
	}
	// No Cause: the validator's own text repeats the offending value in
	// full, and the audit record joins message and cause. A value quoted
	// twice, once cut, defeats the redaction of the record.
	return &Error{
		Code:    CodeInvalidInput,
		Message: "invalid arguments: " + strings.Join(problems, "; "),
	}
}

// fallbackMessage strips the validator's schema-path prefixes.
func fallbackMessage(err error) string {
	msg := err.Error()
	for {
		rest, ok := strings.CutPrefix(msg, "validating ")
		if !ok {
			break
		}
		_, after, found := strings.Cut(rest, ": ")
		if !found {
			break
		}
		msg = after
	}
	return msg
}

// explain walks the schema alongside the instance and appends one line per
// violated rule. It covers the keywords schemas generated from Go types use.
func explain(s *jsonschema.Schema, v any, path string, out *[]string) {
	if s == nil || len(*out) > maxProblems {
		return
	}
	add := func(format string, args ...any) {
		*out = append(*out, path+": "+fmt.Sprintf(format, args...))
	}
	if !typeMatches(s, v) {
		add("must be %s (got %s)", wantType(s), jsonTypeName(v))
		return
	}
	if len(s.Enum) > 0 && !slices.ContainsFunc(s.Enum, func(e any) bool { return jsonEqual(e, v) }) {
		add("must be one of %s (got %s)", listValues(s.Enum), shortValue(v))
		return
	}
	if s.Const != nil && !jsonEqual(*s.Const, v) {
		add("must be %s (got %s)", shortValue(*s.Const), shortValue(v))
		return
	}
	switch x := v.(type) {
	case json.Number:
		explainNumber(s, x, add)
	case float64:
		explainNumber(s, json.Number(strconv.FormatFloat(x, 'g', -1, 64)), add)
	case string:
		n := utf8.RuneCountInString(x)
		if s.MinLength != nil && n < *s.MinLength {
			add("must be at least %s (got %d)", plural(*s.MinLength, "character"), n)
		}
		if s.MaxLength != nil && n > *s.MaxLength {
			add("must be at most %s (got %d)", plural(*s.MaxLength, "character"), n)
		}
		if s.Pattern != "" {
			if re, err := regexp.Compile(s.Pattern); err == nil && !re.MatchString(x) {
				add("must match the pattern %s (got %s)", s.Pattern, shortValue(x))
			}
		}
	case []any:
		if s.MinItems != nil && len(x) < *s.MinItems {
			add("must have at least %s (got %d)", plural(*s.MinItems, "item"), len(x))
		}
		if s.MaxItems != nil && len(x) > *s.MaxItems {
			add("must have at most %s (got %d)", plural(*s.MaxItems, "item"), len(x))
		}
		for i, item := range x {
			explain(s.Items, item, fmt.Sprintf("%s[%d]", path, i), out)
		}
	case map[string]any:
		for _, name := range s.Required {
			if _, ok := x[name]; !ok {
				*out = append(*out, path+"."+name+": is required")
			}
		}
		for _, name := range sortedKeys(x) {
			sub, ok := s.Properties[name]
			switch {
			case ok:
				explain(sub, x[name], path+"."+name, out)
			case isFalse(s.AdditionalProperties):
				*out = append(*out, fmt.Sprintf("%s.%s: unknown field (allowed: %s)", path, name, strings.Join(sortedKeys(s.Properties), ", ")))
			case s.AdditionalProperties != nil:
				explain(s.AdditionalProperties, x[name], path+"."+name, out)
			}
		}
	}
}

func explainNumber(s *jsonschema.Schema, n json.Number, add func(string, ...any)) {
	r, ok := new(big.Rat).SetString(n.String())
	if !ok {
		return
	}
	cmp := func(f float64) int { return r.Cmp(new(big.Rat).SetFloat64(f)) }
	if s.Minimum != nil && cmp(*s.Minimum) < 0 {
		add("must be >= %s (got %s)", fmtNum(*s.Minimum), n)
	}
	if s.Maximum != nil && cmp(*s.Maximum) > 0 {
		add("must be <= %s (got %s)", fmtNum(*s.Maximum), n)
	}
	if s.ExclusiveMinimum != nil && cmp(*s.ExclusiveMinimum) <= 0 {
		add("must be > %s (got %s)", fmtNum(*s.ExclusiveMinimum), n)
	}
	if s.ExclusiveMaximum != nil && cmp(*s.ExclusiveMaximum) >= 0 {
		add("must be < %s (got %s)", fmtNum(*s.ExclusiveMaximum), n)
	}
	if s.MultipleOf != nil && *s.MultipleOf > 0 {
		q := new(big.Rat).Quo(r, new(big.Rat).SetFloat64(*s.MultipleOf))
		if !q.IsInt() {
			add("must be a multiple of %s (got %s)", fmtNum(*s.MultipleOf), n)
		}
	}
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func isFalse(s *jsonschema.Schema) bool {
	return s != nil && s.Not != nil && s.Not.Type == "" && len(s.Not.Types) == 0 && s.Not.Properties == nil && s.Not.Not == nil && s.Not.Ref == "" && s.Not.Enum == nil
}

func schemaTypes(s *jsonschema.Schema) []string {
	if s.Type != "" {
		return []string{s.Type}
	}
	return s.Types
}

func typeMatches(s *jsonschema.Schema, v any) bool {
	types := schemaTypes(s)
	if len(types) == 0 {
		return true
	}
	got := jsonTypeName(v)
	for _, t := range types {
		if t == got || (t == "number" && got == "integer") {
			return true
		}
	}
	return false
}

func wantType(s *jsonschema.Schema) string {
	types := schemaTypes(s)
	words := make([]string, len(types))
	for i, t := range types {
		switch t {
		case "object", "array", "integer":
			words[i] = "an " + t
		default:
			words[i] = "a " + t
		}
		if t == "null" {
			words[i] = "null"
		}
	}
	return strings.Join(words, " or ")
}

func jsonTypeName(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		if _, err := x.Int64(); err == nil {
			return "integer"
		}
		if r, ok := new(big.Rat).SetString(x.String()); ok && r.IsInt() {
			return "integer"
		}
		return "number"
	case float64:
		if x == float64(int64(x)) {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func jsonEqual(a, b any) bool {
	ab, err1 := json.Marshal(a)
	bb, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		return false
	}
	if an, ok := a.(json.Number); ok {
		ab = []byte(an.String())
	}
	if bn, ok := b.(json.Number); ok {
		bb = []byte(bn.String())
	}
	if ra, ok := new(big.Rat).SetString(string(ab)); ok {
		if rb, ok := new(big.Rat).SetString(string(bb)); ok {
			return ra.Cmp(rb) == 0
		}
	}
	return bytes.Equal(ab, bb)
}

func listValues(vs []any) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = shortValue(v)
	}
	return strings.Join(parts, ", ")
}

// shortValue renders a value for an error message, bounded so that a hostile
// payload is not echoed back at length. A cut falls between tokens, never
// inside one: the audit redactor sees every credential it is shown whole
// (a key and its value stay together or go together), and a partial token
// (the first half of a secret key or password hash) is never shown.
func shortValue(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%T", v)
	}
	const limit = 40
	n := utf8.RuneCount(b)
	if n <= limit {
		return string(b)
	}
	r := []rune(string(b))
	cut := limit
	for cut > 0 && isTokenRune(r[cut-1]) && isTokenRune(r[cut]) {
		cut--
	}
	if cut <= 1 {
		if str, ok := v.(string); ok {
			return fmt.Sprintf("a string of %d characters", utf8.RuneCountInString(str))
		}
		return fmt.Sprintf("%d bytes of JSON", len(b))
	}
	return string(r[:cut]) + "…"
}

// isTokenRune: the characters a credential is made of (base64, hex, crypt
// and key alphabets, URL escapes); a cut between two of them would leave
// part of a token.
func isTokenRune(c rune) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.ContainsRune("+/=_.$~%-", c) || c >= utf8.RuneSelf
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
