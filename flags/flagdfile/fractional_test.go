package flagdfile_test

import (
	"context"
	"testing"

	"github.com/open-feature/go-sdk/openfeature"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The reference values below are flagd's own: open-feature/flagd,
// core/pkg/evaluator/fractional_test.go (TestFractionalEvaluation) at
// commit bbb05d4b, whose bucketing is the one introduced by
// "feat!: fractional bucketing improvements" (open-feature/flagd#1909,
// flagd-testbed v3.4.0): murmur3 32-bit of the bucketing value, mapped to
// (hash * totalWeight) >> 32. The flag definitions are the same as there.
const colors = `"state": "ENABLED", "defaultVariant": "red",
      "variants": {"red": "#FF0000", "blue": "#0000FF", "green": "#00FF00", "yellow": "#FFFF00"}`

// Targeting rules of flagd's test cases, each served as a flag named as in
// flagd's test, since the flag key is part of the default bucketing value.
var fractionalRules = map[string]string{
	"common":        `{"if": [{"in": ["@faas.com", {"var": ["email"]}]}, {"fractional": [{"cat": [{"var": "$flagd.flagKey"}, {"var": "email"}]}, ["red", 25], ["blue", 25], ["green", 25], ["yellow", 25]]}, null]}`,
	"customSeed":    `{"if": [{"in": ["@faas.com", {"var": ["email"]}]}, {"fractional": [{"cat": ["my-seed", {"var": "email"}]}, ["red", 25], ["blue", 25], ["green", 25], ["yellow", 25]]}, null]}`,
	"byEmail4":      `{"if": [{"in": ["@faas.com", {"var": ["email"]}]}, {"fractional": [{"var": "email"}, ["red", 25], ["blue", 25], ["green", 25], ["yellow", 25]]}, null]}`,
	"nonEven":       `{"if": [{"in": ["@faas.com", {"var": ["email"]}]}, {"fractional": ["email", ["red", 50], ["blue", 25], ["green", 25]]}, null]}`,
	"byEmail":       `{"fractional": [{"var": "email"}, ["red", 25], ["blue", 25]]}`,
	"byEmailNoW":    `{"fractional": [{"var": "email"}, ["red"], ["blue"]]}`,
	"byTargetKey":   `{"fractional": [["blue", 50], ["green", 50]]}`,
	"missingVar":    `{"fractional": [{"var": "email"}, ["red", 50], ["blue", 50]]}`,
	"single":        `{"fractional": [["yellow"]]}`,
	"singleByEmail": `{"fractional": [{"var": "email"}, ["green", 100]]}`,
}

func TestFractionalMatchesFlagd(t *testing.T) {
	cases := []struct {
		name, rule, flag string
		ctx              map[string]any
		targeting        string
		variant          string
		reason           openfeature.Reason
	}{
		{"rachel", "common", "headerColor", map[string]any{"email": "rachel@faas.com"}, "", "blue", openfeature.TargetingMatchReason},
		{"monica", "common", "headerColor", map[string]any{"email": "monica@faas.com"}, "", "yellow", openfeature.TargetingMatchReason},
		{"joey", "common", "headerColor", map[string]any{"email": "joey@faas.com"}, "", "red", openfeature.TargetingMatchReason},
		{"ross", "common", "headerColor", map[string]any{"email": "ross@faas.com"}, "", "blue", openfeature.TargetingMatchReason},
		{"rachel custom seed", "customSeed", "customSeededHeaderColor", map[string]any{"email": "rachel@faas.com"}, "", "green", openfeature.TargetingMatchReason},
		{"monica custom seed", "customSeed", "customSeededHeaderColor", map[string]any{"email": "monica@faas.com"}, "", "red", openfeature.TargetingMatchReason},
		{"joey custom seed", "customSeed", "customSeededHeaderColor", map[string]any{"email": "joey@faas.com"}, "", "blue", openfeature.TargetingMatchReason},
		{"ross custom seed", "customSeed", "customSeededHeaderColor", map[string]any{"email": "ross@faas.com"}, "", "green", openfeature.TargetingMatchReason},
		{"ross other flag key", "byEmail4", "footerColor", map[string]any{"email": "ross@faas.com"}, "", "red", openfeature.TargetingMatchReason},
		{"non even split", "nonEven", "headerColor", map[string]any{"email": "test4@faas.com"}, "", "green", openfeature.TargetingMatchReason},
		{"no email: default", "byEmail", "headerColor", map[string]any{}, "", "red", openfeature.DefaultReason},
		{"relative weights", "byEmail", "headerColor", map[string]any{"email": "foo@foo.com"}, "", "blue", openfeature.TargetingMatchReason},
		{"weights omitted", "byEmailNoW", "headerColor", map[string]any{"email": "foo@foo.com"}, "", "blue", openfeature.TargetingMatchReason},
		{"targeting key", "byTargetKey", "headerColor", map[string]any{}, "foo@foo.com", "green", openfeature.TargetingMatchReason},
		{"missing var uses targeting key", "missingVar", "headerColor", map[string]any{}, "foo@foo.com", "blue", openfeature.TargetingMatchReason},
		{"no targeting key: default", "byTargetKey", "headerColor", map[string]any{}, "", "red", openfeature.DefaultReason},
		{"single bucket with bucketing value", "singleByEmail", "headerColor", map[string]any{"email": "any@user.com"}, "", "green", openfeature.TargetingMatchReason},
		{"single bucket", "single", "headerColor", map[string]any{}, "any-user", "yellow", openfeature.TargetingMatchReason},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newFileEnv(t, `{"flags": {"`+tc.flag+`": {`+colors+`, "targeting": `+fractionalRules[tc.rule]+`}}}`)
			require.NoError(t, env.initErr)
			d, err := env.client.StringValueDetails(context.Background(), tc.flag, "code-default",
				openfeature.NewEvaluationContext(tc.targeting, tc.ctx))
			require.NoError(t, err)
			assert.Equal(t, tc.variant, d.Variant)
			assert.Equal(t, tc.reason, d.Reason)
		})
	}
}
