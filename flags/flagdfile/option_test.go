package flagdfile_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/flags/flagdfile"
)

// An invalid option is an error from New, never silently capped, ignored or
// a panic on some later reload.
func TestNewRejectsInvalidOptions(t *testing.T) {
	cases := []struct {
		name string
		path string
		opts []flagdfile.Option
		want string
	}{
		{"empty path", "", nil, "New needs the path of a flag file"},
		{"blank path", " ", nil, "New needs the path of a flag file"},
		{"nil option", "flags.json", []flagdfile.Option{nil}, "option 0 is nil"},
		{"zero debounce", "flags.json", []flagdfile.Option{flagdfile.WithDebounce(0)}, "WithDebounce needs a duration above 0 and at most 900ms (got 0s)"},
		{"negative debounce", "flags.json", []flagdfile.Option{flagdfile.WithDebounce(-time.Millisecond)}, "(got -1ms)"},
		{"debounce over a second's promise", "flags.json", []flagdfile.Option{flagdfile.WithDebounce(2 * time.Second)}, "at most 900ms (got 2s)"},
		{"nil logger", "flags.json", []flagdfile.Option{flagdfile.WithLogger(nil)}, "WithLogger needs a logger"},
		{"nil clock", "flags.json", []flagdfile.Option{flagdfile.WithClock(nil)}, "withClock needs a clock function"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := flagdfile.New(tc.path, tc.opts...)
			require.Error(t, err)
			assert.Nil(t, p)
			assert.Contains(t, err.Error(), tc.want)
			assert.PanicsWithError(t, err.Error(), func() { flagdfile.MustNew(tc.path, tc.opts...) })
		})
	}

	p, err := flagdfile.New("flags.json", flagdfile.WithDebounce(900*time.Millisecond),
		flagdfile.WithLogger(slog.New(slog.DiscardHandler)), flagdfile.WithClock(time.Now))
	require.NoError(t, err)
	assert.Equal(t, flagdfile.ProviderName, p.Metadata().Name)
}
