package store

import (
	"math/rand/v2"
	"testing"
)

// idTable holds what a map holds, through resets (generations) and growth,
// for keys that are not well mixed (small counters, a builder's
// offset<<32|length keys) and random ones.
func TestIDTable(t *testing.T) {
	var tb idTable
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 300 {
		tb.reset()
		want := map[uint64]int32{}
		n := rng.IntN(3000)
		for i := range n {
			var k uint64
			switch round % 3 {
			case 0:
				k = uint64(rng.IntN(n + 1))
			case 1:
				k = uint64(rng.IntN(5000))<<32 | uint64(rng.IntN(40))
			default:
				k = rng.Uint64()
			}
			if v, ok := tb.get(k); ok != (want[k] != 0) || (ok && v != want[k]-1) {
				t.Fatalf("round %d: get(%d) = %d, %v; want %d", round, k, v, ok, want[k]-1)
			}
			tb.put(k, int32(i))
			want[k] = int32(i) + 1
		}
		for k, v := range want {
			if got, ok := tb.get(k); !ok || got != v-1 {
				t.Fatalf("round %d: get(%d) = %d, %v; want %d", round, k, got, ok, v-1)
			}
		}
		if tb.n != len(want) {
			t.Fatalf("round %d: %d entries, want %d", round, tb.n, len(want))
		}
	}
	// A generation that wraps around empties the table too.
	tb.gen = ^uint32(0)
	tb.reset()
	if _, ok := tb.get(1); ok || tb.n != 0 {
		t.Fatal("after a wrap, the table is not empty")
	}
}
