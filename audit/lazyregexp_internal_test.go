package audit

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// Default rules compile on first use, so an invalid expression would only
// show in the middle of a call: every one must compile here.
func TestDefaultRuleExpressionsCompile(t *testing.T) {
	n := 0
	for _, ru := range defaultRules() {
		if ru.match != nil {
			continue
		}
		require.NotNil(t, ru.lazy, "rule %s has neither a matcher nor an expression", ru.id)
		_, err := regexp.Compile(ru.lazy.src)
		require.NoError(t, err, "rule %s", ru.id)
		n++
	}
	require.Greater(t, n, 40)
}

// A Redactor compiles only what the text it meets needs.
func TestDefaultRulesCompileOnFirstUse(t *testing.T) {
	r, err := NewRedactor()
	require.NoError(t, err)
	compiled := func() (ids []string) {
		for _, ru := range r.rules {
			if ru.lazy != nil && ru.lazy.re != nil {
				ids = append(ids, ru.id)
			}
		}
		return ids
	}
	require.Empty(t, compiled())
	require.Equal(t, "token [REDACTED:github_token]", r.String("token ghp_"+"abcdefghijklmnopqrstuvwxyz0123456789"))
	require.Equal(t, []string{"github_token"}, compiled())
}
