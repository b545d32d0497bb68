package audit_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
)

// A document with nothing to mask is its own redaction: JSON returns its
// bytes without copying them, capped so that an append cannot write into
// them. Anything masked, renamed or re-encoded gives a new slice, and the
// input is never written.
func TestJSONSharesOnlyAnUnchangedDocument(t *testing.T) {
	r := must(audit.NewRedactor())
	same := func(a, b []byte) bool { return len(a) > 0 && len(b) > 0 && &a[0] == &b[0] }

	raw := []byte(` {"id":"INC-1001","notes":["token refresh deploy"],"n":1.5e3} `)
	out := r.JSON(raw, nil)
	require.Equal(t, `{"id":"INC-1001","notes":["token refresh deploy"],"n":1.5e3}`, string(out))
	assert.True(t, same(out, raw[1:]), "an unchanged document was copied")
	assert.Equal(t, len(out), cap(out))
	_ = append(out, "garbage"...)
	assert.Equal(t, byte(' '), raw[len(raw)-1], "an append to the result wrote into the input")

	for name, in := range map[string]string{
		"masked":      `{"note":"key ghp_abcdefghijklmnopqrstuvwxyz0123456789"}`,
		"secret key":  `{"password":"hunter2hunter2"}`,
		"redact path": `{"ssn":"123"}`,
		"spaces":      `{"a": 1}`,
		"escapes":     `{"a":"\u0041"}`,
	} {
		raw := []byte(in)
		out := r.JSON(raw, []string{"ssn"})
		assert.False(t, same(out, raw), "%s: the result shares the input", name)
		assert.Equal(t, in, string(raw), "%s: the input was written", name)
		assert.NotEqual(t, in, string(out), "%s: nothing changed", name)
	}
}
