package store

import (
	"math/rand/v2"
	"testing"
)

// TestIDSet holds IDSet to a Go map through growth from the smallest table:
// random keys, each added again later, keys that differ in one byte, and the
// zero key (which marks an empty slot, so it is kept aside).
func TestIDSet(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	s := NewIDSet(0)
	model := map[[16]byte]bool{}
	var keys [][16]byte
	add := func(k [16]byte) {
		t.Helper()
		if got, want := s.Add(k), !model[k]; got != want {
			t.Fatalf("Add(%x) = %v, want %v (len %d)", k, got, want, len(model))
		}
		model[k] = true
		if s.Len() != len(model) {
			t.Fatalf("Len = %d, want %d", s.Len(), len(model))
		}
	}
	for i := range 50_000 {
		var k [16]byte
		switch i % 5 {
		case 0, 1, 2: // a fresh random key
			for j := range k {
				k[j] = byte(rng.Uint32())
			}
		case 3: // one seen before
			k = keys[rng.IntN(len(keys))]
		case 4: // one seen before with one byte changed
			k = keys[rng.IntN(len(keys))]
			k[rng.IntN(16)] ^= byte(1 + rng.IntN(255))
		}
		if i == 1000 || i == 30_000 {
			k = [16]byte{}
		}
		keys = append(keys, k)
		add(k)
	}
	if !model[[16]byte{}] {
		t.Fatal("the zero key was not tried")
	}
	if len(s.slots) > 4*len(model) || len(s.slots)*3/4 < len(model) {
		t.Fatalf("%d keys in %d slots", len(model), len(s.slots))
	}
	for _, k := range keys {
		if s.Add(k) {
			t.Fatalf("%x added again", k)
		}
	}
}

// BenchmarkIDSet is deduplication's work a row: inserting 250,000 new
// eventID keys (the default dedup cap is 2^18) and 2,500 known ones, into an
// IDSet and, for comparison, into the Go map it replaced.
func BenchmarkIDSet(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	keys := make([][16]byte, 250_000)
	for i := range keys {
		for j := range keys[i] {
			keys[i][j] = byte(rng.Uint32())
		}
	}
	for i := 0; i < len(keys); i += 100 {
		keys = append(keys, keys[i])
	}
	b.Run("IDSet", func(b *testing.B) {
		b.SetBytes(int64(16 * len(keys)))
		b.ReportAllocs()
		for b.Loop() {
			s := NewIDSet(0)
			for _, k := range keys {
				s.Add(k)
			}
			if s.Len() != 250_000 {
				b.Fatal(s.Len())
			}
		}
	})
	b.Run("map", func(b *testing.B) {
		b.SetBytes(int64(16 * len(keys)))
		b.ReportAllocs()
		for b.Loop() {
			m := map[[16]byte]struct{}{}
			for _, k := range keys {
				m[k] = struct{}{}
			}
			if len(m) != 250_000 {
				b.Fatal(len(m))
			}
		}
	})
}
