package store

// idTable maps uint64 keys to int32 values: an open-addressing table that
// the rollup's builder and encoder empty thousands of times a file (once a
// principal, once a column chunk), which reset does by moving to a new
// generation instead of clearing. Keys need not be well mixed (a
// multiplicative hash spreads them). Measured in BenchmarkEncodeRollup
// against Go maps: see the commit that added it.
type idTable struct {
	slots []idSlot
	gen   uint32
	n     int
	shift uint
}

type idSlot struct {
	key uint64
	val int32
	gen uint32
}

// reset empties the table.
func (t *idTable) reset() {
	t.gen++
	t.n = 0
	if t.gen == 0 || len(t.slots) == 0 { // wrapped around, or new
		if len(t.slots) == 0 {
			t.slots, t.shift = make([]idSlot, 64), 64-6
		} else {
			clear(t.slots)
		}
		t.gen = 1
	}
}

func (t *idTable) slot(key uint64) int {
	return int((key * 0x9e3779b97f4a7c15) >> t.shift)
}

// get returns key's value.
func (t *idTable) get(key uint64) (int32, bool) {
	mask := len(t.slots) - 1
	for i := t.slot(key); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.gen != t.gen {
			return 0, false
		}
		if s.key == key {
			return s.val, true
		}
	}
}

// put sets key's value.
func (t *idTable) put(key uint64, val int32) {
	if 2*(t.n+1) > len(t.slots) {
		t.grow()
	}
	mask := len(t.slots) - 1
	for i := t.slot(key); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.gen != t.gen {
			*s = idSlot{key: key, val: val, gen: t.gen}
			t.n++
			return
		}
		if s.key == key {
			s.val = val
			return
		}
	}
}

func (t *idTable) grow() {
	old, gen := t.slots, t.gen
	t.slots, t.shift = make([]idSlot, 2*len(old)), t.shift-1
	t.gen, t.n = 1, 0
	for _, s := range old {
		if s.gen == gen {
			t.put(s.key, s.val)
		}
	}
}
