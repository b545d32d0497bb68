package audit_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
)

// TestConstructorsRefuseInvalidInput: a nil sink, a nil redactor, an empty
// digest tool name, a queue of no records and an invalid redaction option
// are errors from the constructor, naming what is wrong; none panics and
// none is silently replaced by a default.
func TestConstructorsRefuseInvalidInput(t *testing.T) {
	sink := audit.SinkFunc(nil)
	cases := []struct {
		name  string
		build func() error
		want  string
	}{
		{"New nil sink", func() error { _, err := audit.New(nil); return err }, "New needs a sink"},
		{"New nil redactor", func() error { _, err := audit.New(sink, audit.WithRedactor(nil)); return err }, "WithRedactor needs a redactor"},
		{"New empty digest tool", func() error { _, err := audit.New(sink, audit.WithResultDigest("a", "")); return err }, "WithResultDigest needs tool names"},
		{"Middleware nil sink", func() error { _, err := audit.Middleware(nil); return err }, "New needs a sink"},
		{"NewAsync nil sink", func() error { _, err := audit.NewAsync(nil); return err }, "NewAsync needs a sink"},
		{"NewAsync empty queue", func() error { _, err := audit.NewAsync(sink, audit.WithQueueSize(0)); return err }, "WithQueueSize needs at least 1"},
		{"NewRedactor negative size", func() error { _, err := audit.NewRedactor(audit.WithMaxString(-1)); return err }, "audit:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			require.NotPanics(t, func() { err = tc.build() })
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	// Every invalid option is reported, not only the first.
	_, err := audit.New(nil, audit.WithRedactor(nil))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "New needs a sink")
	assert.Contains(t, err.Error(), "WithRedactor")
}
