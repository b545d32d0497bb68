package audit_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// redactionCorpus is testdata/redaction_corpus.json.
type redactionCorpus struct {
	Rules map[string]struct {
		Positive []struct {
			Text   string `json:"text"`
			Secret string `json:"secret"`
		} `json:"positive"`
		Negative []string `json:"negative"`
	} `json:"rules"`
	Benign []string `json:"benign"`
}

func loadCorpus(t testing.TB) redactionCorpus {
	t.Helper()
	b, err := os.ReadFile("testdata/redaction_corpus.json")
	require.NoError(t, err)
	var c redactionCorpus
	require.NoError(t, json.Unmarshal(b, &c))
	return c
}

// TestRedactionCorpusCoversEveryRule keeps the rules and their test data
// together: every rule has positive and negative cases, and the corpus is
// as large as the promise in the README.
func TestRedactionCorpusCoversEveryRule(t *testing.T) {
	c := loadCorpus(t)
	positives, negatives := 0, 0
	for _, id := range must(audit.NewRedactor()).RuleIDs() {
		cases, ok := c.Rules[id]
		if assert.True(t, ok, "rule %s has no corpus cases", id) {
			assert.NotEmpty(t, cases.Positive, "rule %s: no positive case", id)
			assert.NotEmpty(t, cases.Negative, "rule %s: no negative case", id)
		}
	}
	for id, cases := range c.Rules {
		assert.Contains(t, must(audit.NewRedactor()).RuleIDs(), id, "corpus names an unknown rule")
		positives += len(cases.Positive)
		negatives += len(cases.Negative)
	}
	assert.GreaterOrEqual(t, positives, 60)
	assert.GreaterOrEqual(t, len(c.Benign)+negatives, 40)
	assert.GreaterOrEqual(t, len(c.Benign), 40)
}

// TestRedactionCorpusText: each planted credential is masked by its own
// rule, in plain text and inside a JSON string; near misses and benign
// text come out byte for byte.
func TestRedactionCorpusText(t *testing.T) {
	c := loadCorpus(t)
	r := must(audit.NewRedactor())
	for id, cases := range c.Rules {
		for _, p := range cases.Positive {
			require.NotEmpty(t, p.Secret)
			require.Contains(t, p.Text, p.Secret, "corpus case of %s", id)
			out := r.String(p.Text)
			assert.NotContains(t, out, p.Secret, "rule %s leaks in %q", id, p.Text)
			assert.Contains(t, out, "[REDACTED:"+id+"]", "rule %s: %q became %q", id, p.Text, out)
			doc, _ := json.Marshal(map[string]any{"note": p.Text, "list": []string{"x", p.Text}})
			js := string(r.JSON(doc, nil))
			assert.True(t, json.Valid([]byte(js)), js)
			assert.NotContains(t, js, p.Secret, "rule %s leaks from JSON: %s", id, js)
		}
		for _, n := range cases.Negative {
			assert.Equal(t, n, r.String(n), "rule %s: near miss changed", id)
		}
	}
	for _, b := range c.Benign {
		assert.Equal(t, b, r.String(b), "benign text changed")
		doc, _ := json.Marshal(map[string]string{"note": b})
		assert.Equal(t, string(doc), string(r.JSON(doc, nil)), "benign JSON changed")
	}
}

// TestRedactionCorpusThroughServer plants every corpus credential in a
// real call's arguments, its result and its error, and keeps the benign
// strings: what the sink holds is checked, not what the redactor returns.
func TestRedactionCorpusThroughServer(t *testing.T) {
	c := loadCorpus(t)
	mem := &memSink{}
	f := newFixture(t, mem)
	cs := mcpkittest.NewHarness(t, f.srv).Session
	var secrets []string
	for _, cases := range c.Rules {
		for _, p := range cases.Positive {
			secrets = append(secrets, p.Secret)
			_, err := callTool(t, cs, "get_thing", map[string]any{"name": "x", "text": p.Text})
			require.NoError(t, err)
			_, err = callTool(t, cs, "get_thing", map[string]any{"name": "x", "fail": "upstream said: " + p.Text})
			require.NoError(t, err)
		}
	}
	for _, b := range c.Benign {
		_, err := callTool(t, cs, "get_thing", map[string]any{"name": "x", "text": b})
		require.NoError(t, err)
	}
	recs := mem.finals()
	require.Len(t, recs, len(secrets)*2+len(c.Benign))
	all := asJSON(t, recs)
	for _, s := range secrets {
		assert.NotContains(t, all, s)
	}
	// The benign calls' records hold their text unchanged, in the
	// arguments and in the result.
	for i, b := range c.Benign {
		rec := recs[len(secrets)*2+i]
		var args, res map[string]any
		require.NoError(t, json.Unmarshal(rec.Arguments, &args))
		require.NoError(t, json.Unmarshal(rec.Result, &res))
		assert.Equal(t, b, args["text"])
		assert.Equal(t, b, res["echo"])
	}
	// Errors were recorded masked, not dropped.
	errs := 0
	for _, r := range recs {
		if r.Outcome == "tool_error" {
			errs++
			assert.True(t, strings.HasPrefix(r.Error, "upstream said: "), r.Error)
			assert.Contains(t, r.Error, "[REDACTED")
		}
	}
	assert.Equal(t, len(secrets), errs)
	require.NoError(t, audit.Close(context.Background(), mem))
}
