package flagdfile_test

import (
	"context"
	"testing"
	"time"

	"github.com/open-feature/go-sdk/openfeature"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/flags/flagdfile"
)

// Every malformed file is refused whole at start, with an error that names
// the problem; the provider then answers PROVIDER_NOT_READY.
func TestInvalidFileAtStart(t *testing.T) {
	cases := []struct{ name, file, want string }{
		{"empty", ``, "no such file"},
		{"blank", `   `, "the file is empty"},
		{"malformed JSON", "{\"flags\": {\n  \"a\": {\"state\": \"ENABLED\",}\n}}", "malformed JSON: line 2, column"},
		{"trailing data", `{"flags": {}} {}`, "trailing data"},
		{"not an object", `[]`, "malformed JSON"},
		{"no flags", `{"flag": {}}`, `unknown top-level key "flag"`},
		{"flags missing", `{}`, `missing "flags"`},
		{"unknown field", `{"flags": {"a": {"state": "ENABLED", "variants": {"on": true}, "defaultvariant": "on"}}}`, `unknown field "defaultvariant"`},
		{"bad state", `{"flags": {"a": {"state": "ON", "variants": {"on": true}, "defaultVariant": "on"}}}`, `state must be "ENABLED" or "DISABLED"`},
		{"no variants", `{"flags": {"a": {"state": "ENABLED", "variants": {}, "defaultVariant": "on"}}}`, `"variants" must be a non-empty object`},
		{"default not a variant", `{"flags": {"a": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "yes"}}}`, `defaultVariant "yes" is not one of the variants (off, on)`},
		{"variant type mismatch", `{"flags": {"a": {"state": "ENABLED", "variants": {"on": true, "off": "false"}, "defaultVariant": "on"}}}`, `variant type mismatch: variant "on" is a boolean but the others are string values`},
		{"null variant", `{"flags": {"a": {"state": "ENABLED", "variants": {"on": null}, "defaultVariant": "on"}}}`, `variant "on": value must not be null`},
		{"unknown operator", `{"flags": {"a": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off", "targeting": {"if": [{"startswith": [{"var": "email"}, "a"]}, "on", "off"]}}}}`, `targeting.if[0]: unknown operator "startswith"`},
		{"ref to nothing", `{"$evaluators": {"sre": {"in": ["sre", {"var": "groups"}]}}, "flags": {"a": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off", "targeting": {"if": [{"$ref": "admins"}, "on", "off"]}}}}`, `$ref to "admins", which $evaluators does not define (defined: sre)`},
		{"ref cycle", `{"$evaluators": {"x": {"!": {"$ref": "y"}}, "y": {"!": {"$ref": "x"}}}, "flags": {}}`, `$ref cycle`},
		{"if result not a variant", `{"flags": {"a": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off", "targeting": {"if": [{"==": [1, 1]}, "yes", "off"]}}}}`, `"yes" is not a variant of this flag`},
		{"fractional unknown variant", `{"flags": {"a": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off", "targeting": {"fractional": [["on", 25], ["of", 75]]}}}}`, `"of" is not a variant`},
		{"fractional bad weight", `{"flags": {"a": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off", "targeting": {"fractional": [["on", 2.5], ["off", 75]]}}}}`, `weight must be a whole number`},
		{"sem_ver bad comparison", `{"flags": {"a": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off", "targeting": {"if": [{"sem_ver": [{"var": "client_version"}, "=>", "1.0.0"]}, "on", "off"]}}}}`, `unknown comparison "=>"`},
		{"sem_ver bad version", `{"flags": {"a": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off", "targeting": {"if": [{"sem_ver": [{"var": "client_version"}, ">=", "1.x"]}, "on", "off"]}}}}`, `"1.x" is not a semantic version`},
		{"custom op in map", `{"flags": {"a": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off", "targeting": {"if": [{"some": [{"var": "groups"}, {"starts_with": [{"var": ""}, "sre"]}]}, "on", "off"]}}}}`, `cannot be used inside some/all/none/filter/map/reduce`},
		{"empty variant name", `{"flags": {"a": {"state": "ENABLED", "variants": {"": true, "off": false}, "defaultVariant": "off"}}}`, `variant names must be non-empty`},
		{"multi-key object", `{"flags": {"a": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off", "targeting": {"if": [true, "on"], "or": []}}}}`, `must hold exactly one operation`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newFileEnv(t, tc.file)
			require.Error(t, env.initErr)
			assert.Contains(t, env.initErr.Error(), tc.want)
			assert.Equal(t, openfeature.ErrorState, env.client.State())
			d, err := env.client.BooleanValueDetails(context.Background(), "a", true, openfeature.NewEvaluationContext("u", nil))
			require.Error(t, err)
			assert.Equal(t, openfeature.ProviderNotReadyCode, d.ErrorCode)
			assert.True(t, d.Value, "the caller's default comes back; the gate passes false")
		})
	}
}

const opsFile = `{
  "$evaluators": {"is_sre": {"in": ["sre", {"var": "groups"}]}},
  "flags": {
    "prefix": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off",
      "targeting": {"if": [{"starts_with": [{"var": "email"}, "ops-"]}, "on", "off"]}},
    "suffix": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off",
      "targeting": {"if": [{"ends_with": [{"var": "email"}, "@example.com"]}, "on", "off"]}},
    "semver": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off",
      "targeting": {"if": [{"sem_ver": [{"var": "client_version"}, ">=", "1.2.0"]}, "on", "off"]}},
    "caret": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off",
      "targeting": {"if": [{"sem_ver": [{"var": "client_version"}, "^", "v2.0.0"]}, "on", "off"]}},
    "ref": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off",
      "targeting": {"if": [{"$ref": "is_sre"}, "on", "off"]}},
    "key": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off",
      "targeting": {"if": [{"==": [{"var": "$flagd.flagKey"}, "key"]}, "on", "off"]}},
    "after": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off",
      "targeting": {"if": [{">=": [{"var": "$flagd.timestamp"}, 1767225600]}, "on", "off"]}},
    "disabled": {"state": "DISABLED", "variants": {"on": true, "off": false}, "defaultVariant": "on"},
    "color": {"state": "ENABLED", "variants": {"red": "r", "blue": "b"}, "defaultVariant": "red"},
    "bad_result": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off",
      "targeting": {"var": "email"}}
  }
}`

func TestOperations(t *testing.T) {
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	env := newFileEnv(t, opsFile, flagdfile.WithClock(func() time.Time { return clock }))
	require.NoError(t, env.initErr)
	cases := []struct {
		flag  string
		attrs map[string]any
		want  bool
	}{
		{"prefix", map[string]any{"email": "ops-bob@example.com"}, true},
		{"prefix", map[string]any{"email": "bob@example.com"}, false},
		{"prefix", map[string]any{}, false},
		{"suffix", map[string]any{"email": "bob@example.com"}, true},
		{"suffix", map[string]any{"email": "bob@example.org"}, false},
		{"semver", map[string]any{"client_version": "1.10.0"}, true},
		{"semver", map[string]any{"client_version": "v1.2.0"}, true},
		{"semver", map[string]any{"client_version": "1.2.0-rc.1"}, false},
		{"semver", map[string]any{"client_version": "1.1.9"}, false},
		{"semver", map[string]any{"client_version": "not-a-version"}, false},
		{"caret", map[string]any{"client_version": "2.9.1"}, true},
		{"caret", map[string]any{"client_version": "3.0.0"}, false},
		{"ref", map[string]any{"groups": []any{"dev", "sre"}}, true},
		{"ref", map[string]any{"groups": []string{"dev"}}, false},
		{"key", nil, true},
		{"after", nil, true},
		{"disabled", nil, false},
	}
	for _, tc := range cases {
		got, err := env.client.BooleanValue(context.Background(), tc.flag, false, openfeature.NewEvaluationContext("u", tc.attrs))
		require.NoError(t, err, tc.flag)
		assert.Equal(t, tc.want, got, "%s %v", tc.flag, tc.attrs)
	}

	// A flag of another type is a type mismatch, not a value.
	d, err := env.client.BooleanValueDetails(context.Background(), "color", true, openfeature.EvaluationContext{})
	require.Error(t, err)
	assert.Equal(t, openfeature.TypeMismatchCode, d.ErrorCode)
	// A rule that returns something that is no variant is an error.
	d, err = env.client.BooleanValueDetails(context.Background(), "bad_result", true, openfeature.NewEvaluationContext("u", map[string]any{"email": "x"}))
	require.Error(t, err)
	assert.Equal(t, openfeature.GeneralCode, d.ErrorCode)
	assert.Contains(t, d.ErrorMessage, `targeting returned variant "x", which the flag does not define`)
	// A flag that does not exist says so.
	d, err = env.client.BooleanValueDetails(context.Background(), "nope", true, openfeature.EvaluationContext{})
	require.Error(t, err)
	assert.Equal(t, openfeature.FlagNotFoundCode, d.ErrorCode)
	// Other types resolve too.
	s, err := env.client.StringValue(context.Background(), "color", "", openfeature.EvaluationContext{})
	require.NoError(t, err)
	assert.Equal(t, "r", s)
}
