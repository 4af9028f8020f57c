package ingest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

type fakeRows struct {
	arn  []string
	time []int64
}

func (f fakeRows) PrincipalARN(i int) string { return f.arn[i] }
func (f fakeRows) EventTime(i int) int64     { return f.time[i] }

// TestSortRowsPacksAsKeysCompare: the packed-key sort orders rows exactly
// as comparing principal, time and index does, whether the keys pack into
// 64 bits or not (a time range too wide makes them not).
func TestSortRowsPacksAsKeysCompare(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, tc := range []struct {
		name       string
		rows       int
		principals int
		span       int64
	}{
		{"one day", 5000, 40, 86_400_000},
		{"ties", 3000, 3, 10}, // many equal principal and time pairs: the index decides
		{"one principal", 1000, 1, 1000},
		{"null principals", 500, 2, 1000},
		{"too wide to pack", 2000, 50, 1 << 50},
		{"overflowing range", 100, 5, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := fakeRows{}
			for i := 0; i < tc.rows; i++ {
				p := fmt.Sprintf("arn:aws:iam::111122223333:role/r%d", rng.IntN(tc.principals))
				if tc.name == "null principals" && rng.IntN(2) == 0 {
					p = ""
				}
				var tm int64
				if tc.span < 0 {
					tm = rng.Int64() - 1<<62
				} else {
					tm = 1_700_000_000_000 + rng.Int64N(tc.span)
				}
				f.arn, f.time = append(f.arn, p), append(f.time, tm)
			}
			// A partition's rows are some of the batch's, in batch order.
			var idx []int32
			for i := 0; i < tc.rows; i++ {
				if rng.IntN(3) > 0 {
					idx = append(idx, int32(i))
				}
			}
			want := slices.Clone(idx)
			sortRowsByKeys(want, f)
			got := slices.Clone(idx)
			sortRows(got, f, nil)
			if !slices.Equal(got, want) {
				t.Fatalf("orders differ")
			}
			if tc.name == "one day" && slices.Equal(want, idx) {
				t.Fatalf("the rows were already sorted: the case tests nothing")
			}
		})
	}
}
