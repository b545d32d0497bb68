package mcpkit

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"
)

// stringProps checks that every property of an input schema can come from
// a string, as resource URI variables and prompt arguments do on the wire,
// and returns each property's JSON type. Objects and arrays cannot: the
// input is refused at registration rather than at the first request.
func stringProps(s *jsonschema.Schema) (map[string]string, error) {
	types := make(map[string]string, len(s.Properties))
	for _, name := range sortedKeys(s.Properties) {
		p := s.Properties[name]
		t := p.Type
		if t == "" && len(p.Types) == 1 {
			t = p.Types[0]
		}
		switch t {
		case "string", "integer", "number", "boolean":
			types[name] = t
		default:
			return nil, fmt.Errorf("input field %s has type %q: the values arrive as strings, so each field must be a string, an integer, a number or a boolean", name, strings.Join(append([]string{p.Type}, p.Types...), ""))
		}
	}
	return types, nil
}

// stringArguments maps string values onto a JSON object for the input
// schema: a number or boolean field takes the value as JSON when it is
// one, and the string otherwise, so that validation names the field and
// the expected type. A name the schema does not have stays a string and
// is refused by validation as an unknown field.
func stringArguments(types map[string]string, vals map[string]string) json.RawMessage {
	m := make(map[string]any, len(vals))
	for k, v := range vals {
		switch types[k] {
		case "integer", "number":
			if f := strings.TrimSpace(v); f == v && json.Valid([]byte(v)) && isNumber(v) {
				m[k] = json.Number(v)
				continue
			}
		case "boolean":
			if b, err := strconv.ParseBool(v); err == nil && (v == "true" || v == "false") {
				m[k] = b
				continue
			}
		}
		m[k] = v
	}
	b, _ := json.Marshal(m) // strings, numbers and booleans always encode
	return b
}

func isNumber(v string) bool {
	_, err := strconv.ParseFloat(v, 64)
	return err == nil && v != "" && (v[0] == '-' || (v[0] >= '0' && v[0] <= '9'))
}
