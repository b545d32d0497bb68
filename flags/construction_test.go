package flags_test

import (
	"testing"
	"time"

	"github.com/open-feature/go-sdk/openfeature/isolated"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/flags"
	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// TestNewGateRefusesInvalidOptions: a value a gate cannot use is an error
// from NewGate, naming the option, never a panic and never silently
// replaced by the default (a zero timeout used to keep 2 s unnoticed).
func TestNewGateRefusesInvalidOptions(t *testing.T) {
	client := isolated.NewAPI().NewClient()
	cases := []struct {
		name   string
		client flags.Client
		opts   []flags.Option
		want   string
	}{
		{"nil client", nil, nil, "NewGate needs an OpenFeature client"},
		{"zero timeout", client, []flags.Option{flags.WithTimeout(0)}, "WithTimeout needs a positive duration"},
		{"negative timeout", client, []flags.Option{flags.WithTimeout(-time.Second)}, "WithTimeout needs a positive duration"},
		{"empty server flag", client, []flags.Option{flags.WithServerFlag("")}, "WithServerFlag needs a flag key"},
		{"unknown risk", client, []flags.Option{flags.WithDefault(mcpkit.Risk(42), true)}, "WithDefault needs ReadOnly, Write or Destructive"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g, err := flags.NewGate(tc.client, tc.opts...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Nil(t, g)
		})
	}
	// Every invalid option is reported, not only the first.
	_, err := flags.NewGate(client, flags.WithTimeout(0), flags.WithServerFlag(""))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "WithTimeout")
	assert.Contains(t, err.Error(), "WithServerFlag")

	g, err := flags.NewGate(client, flags.WithTimeout(time.Second), flags.WithServerFlag("server"), flags.WithDefault(mcpkit.Write, true))
	require.NoError(t, err)
	assert.NotNil(t, g)
}
