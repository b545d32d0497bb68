package flags_test

import (
	"testing"
	"time"

	"github.com/open-feature/go-sdk/openfeature"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/flags"
	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// An invalid option is an error from NewGate, never silently ignored or a
// panic on some later call.
func TestNewGateRejectsInvalidOptions(t *testing.T) {
	client, _ := memClient(t, nil)
	var nilClient *openfeature.Client
	cases := []struct {
		name   string
		client flags.Client
		opts   []flags.Option
		want   string
	}{
		{"nil client", nil, nil, "NewGate needs an OpenFeature client"},
		{"typed nil client", nilClient, nil, "got a nil *openfeature.Client"},
		{"nil option", client, []flags.Option{flags.WithTimeout(time.Second), nil}, "option 1 is nil"},
		{"zero timeout", client, []flags.Option{flags.WithTimeout(0)}, "WithTimeout needs a positive duration (got 0s)"},
		{"negative timeout", client, []flags.Option{flags.WithTimeout(-time.Second)}, "WithTimeout needs a positive duration (got -1s)"},
		{"empty server flag", client, []flags.Option{flags.WithServerFlag("")}, "WithServerFlag needs a flag key"},
		{"blank server flag", client, []flags.Option{flags.WithServerFlag("  ")}, "WithServerFlag needs a flag key"},
		{"zero risk", client, []flags.Option{flags.WithDefault(0, true)}, "WithDefault: 0 is not a risk"},
		{"unknown risk", client, []flags.Option{flags.WithDefault(mcpkit.Destructive+1, true)}, "is not a risk"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g, err := flags.NewGate(tc.client, tc.opts...)
			require.Error(t, err)
			assert.Nil(t, g)
			assert.Contains(t, err.Error(), tc.want)
			assert.PanicsWithError(t, err.Error(), func() { flags.MustNewGate(tc.client, tc.opts...) })
		})
	}

	g, err := flags.NewGate(client, flags.WithTimeout(time.Millisecond), flags.WithServerFlag("server"),
		flags.WithDefault(mcpkit.Write, true))
	require.NoError(t, err)
	assert.NotNil(t, g)
	assert.NotNil(t, flags.MustNewGate(client))
}
