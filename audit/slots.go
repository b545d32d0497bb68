package audit

// slotTable maps a byte pair to a small index (1-255; 0 is "none") by open
// addressing with linear probing. It holds at most 255 pairs, so at 512
// cells it is never more than half full and a lookup probes one or two.
type slotTable struct {
	keys [slotCells]uint16
	vals [slotCells]uint8
}

const slotCells = 512

func slotHash(pr uint16) uint32 { return uint32(pr) * 0x9e3779b1 >> 23 } // 9 bits

func (t *slotTable) get(pr uint16) uint8 {
	for h := slotHash(pr); ; h = (h + 1) % slotCells {
		switch {
		case t.vals[h] == 0:
			return 0
		case t.keys[h] == pr:
			return t.vals[h]
		}
	}
}

// put adds pr (not yet in the table) with v (1-255).
func (t *slotTable) put(pr uint16, v uint8) {
	h := slotHash(pr)
	for t.vals[h] != 0 {
		h = (h + 1) % slotCells
	}
	t.keys[h], t.vals[h] = pr, v
}
