package mcpkit

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

type fuzzIn struct {
	Name  string            `json:"name" jsonschema:"description=Name,minLength=1,maxLength=20,pattern=^[a-z]+$"`
	Count int               `json:"count,omitempty" jsonschema:"description=Count,minimum=0,maximum=100,default=5"`
	Ratio float64           `json:"ratio,omitempty" jsonschema:"description=Ratio,exclusiveMinimum=0,maximum=1"`
	Mode  string            `json:"mode,omitempty" jsonschema:"description=Mode,enum=a,enum=b"`
	Tags  []string          `json:"tags,omitempty" jsonschema:"description=Tags,maxItems=3"`
	Meta  map[string]string `json:"meta,omitempty" jsonschema:"description=Meta"`
	Sub   *struct {
		On bool `json:"on" jsonschema:"description=On"`
	} `json:"sub,omitempty" jsonschema:"description=Sub"`
}

// FuzzArguments feeds arbitrary bytes as tool arguments through the built-in
// validation and decoding. Whatever the input, the stage must not panic, and
// either refuse with an invalid-input error naming "arguments" or hand the
// handler a decoded value that satisfies the schema's rules the handler
// relies on.
func FuzzArguments(f *testing.F) {
	for _, seed := range []string{
		`{"name":"abc"}`, `{"name":"abc","count":100,"ratio":0.5,"mode":"a","tags":["x"],"meta":{"k":"v"},"sub":{"on":true}}`,
		`{}`, `null`, ``, `[]`, `"x"`, `{"name":1}`, `{"name":"ABC"}`, `{"name":"abc","count":1e2}`,
		`{"name":"abc","count":1e400}`, `{"name":"abc","count":-0}`, `{"name":"abc","extra":1}`,
		`{"name":"abc","name":"def"}`, `{"name":"abc"} {}`, `{"name":"\u0000"}`, `{"name":"abc","ratio":0}`,
		`{"name":"abc","tags":[1,2,3,4]}`, `{"name":"abc","sub":null}`, `{"name":"abc","count":9223372036854775808}`,
		`{"NAME":"abc"}`, `{"name":"abc","meta":{"k":1}}`,
	} {
		f.Add([]byte(seed))
	}
	s := MustNewServer(&mcp.Implementation{Name: "fuzz", Version: "1"})
	info, err := s.newToolInfo(Tool{Name: "get_fuzz", Description: "Fuzz.", Policy: Policy{Risk: ReadOnly, Public: true}},
		reflect.TypeFor[fuzzIn](), reflect.TypeFor[fuzzIn]())
	if err != nil {
		f.Fatal(err)
	}
	decode := func(b json.RawMessage) (any, error) {
		var in fuzzIn
		err := json.Unmarshal(b, &in)
		return in, err
	}
	f.Fuzz(func(t *testing.T, args []byte) {
		var got *fuzzIn
		next := func(_ context.Context, c *Call) (*mcp.CallToolResult, error) {
			in := c.Input.(fuzzIn)
			got = &in
			return &mcp.CallToolResult{}, nil
		}
		c := &Call{Tool: info, Arguments: args}
		res, err := recoverer(validateStage(info, decode, next))(context.Background(), c)
		if err != nil {
			t.Fatalf("protocol error for %q: %v", args, err)
		}
		if c.Outcome() == OutcomePanic {
			t.Fatalf("panic for %q: %v\n%s", args, c.Err(), c.PanicStack())
		}
		if got == nil {
			if !res.IsError || c.Outcome() != OutcomeInvalidInput {
				t.Fatalf("input %q neither reached the handler nor was refused as invalid: %+v %s", args, res, c.Outcome())
			}
			msg := res.Content[0].(*mcp.TextContent).Text
			if !strings.Contains(msg, "arguments") {
				t.Fatalf("refusal for %q does not name the arguments: %q", args, msg)
			}
			return
		}
		// What reached the handler obeys the schema.
		if l := len([]rune(got.Name)); l < 1 || l > 20 || strings.Trim(got.Name, "abcdefghijklmnopqrstuvwxyz") != "" {
			t.Fatalf("handler got name %q from %q", got.Name, args)
		}
		if got.Count < 0 || got.Count > 100 || got.Ratio < 0 || got.Ratio > 1 || len(got.Tags) > 3 {
			t.Fatalf("handler got out-of-range input %+v from %q", got, args)
		}
		if got.Mode != "" && got.Mode != "a" && got.Mode != "b" {
			t.Fatalf("handler got mode %q from %q", got.Mode, args)
		}
	})
}
