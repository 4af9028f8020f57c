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

// TestRadixSort holds radixSort to slices.Sort on keys of every width up to
// 64 bits, lengths on both sides of its slices.Sort cut-off, and keys whose
// middle digits are all equal (the passes it skips).
func TestRadixSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 255, 256, 257, 5000} {
		for _, width := range []int{1, 11, 12, 33, 52, 64} {
			for _, gap := range []bool{false, true} {
				keys := make([]uint64, n)
				for i := range keys {
					x := rng.Uint64()
					if width < 64 {
						x &= 1<<width - 1
					}
					if gap {
						x &^= (1<<radixBits - 1) << radixBits // the second digit is 0 everywhere
					}
					keys[i] = x
				}
				want := slices.Clone(keys)
				slices.Sort(want)
				got := radixSort(slices.Clone(keys), make([]uint64, n), width)
				if !slices.Equal(got, want) {
					t.Fatalf("n %d, width %d, gap %v: not sorted as slices.Sort sorts", n, width, gap)
				}
			}
		}
	}
}

// BenchmarkSortRows sorts a partition's share of a batch as ingest does: a
// third of 30,000 rows skipped (other partitions), 600 principals, one day.
func BenchmarkSortRows(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	f := fakeRows{}
	var idx []int32
	for i := 0; i < 30000; i++ {
		f.arn = append(f.arn, fmt.Sprintf("arn:aws:iam::111122223333:role/app/role-%04d", rng.IntN(600)))
		f.time = append(f.time, 1_700_000_000_000+rng.Int64N(86_400_000))
		if rng.IntN(3) > 0 {
			idx = append(idx, int32(i))
		}
	}
	work := make([]int32, len(idx))
	var scratch []uint64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		copy(work, idx)
		scratch = sortRows(work, f, scratch)
	}
}
