package audit

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The table answers exactly as the 64 Ki-entry array it replaced, full.
func TestSlotTableMatchesAnArray(t *testing.T) {
	var tab slotTable
	var want [1 << 16]uint8
	// 255 pairs, spread and clustered (neighbouring pairs collide most).
	for i := range 255 {
		pr := uint16(i * 257)
		if i%3 == 0 {
			pr = uint16(0x6100 + i)
		}
		if want[pr] != 0 {
			continue
		}
		want[pr] = uint8(i + 1)
		tab.put(pr, uint8(i+1))
	}
	for pr := range 1 << 16 {
		require.Equal(t, want[pr], tab.get(uint16(pr)), "pair %#04x", pr)
	}
}
