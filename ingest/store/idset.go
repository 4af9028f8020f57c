package store

import "hash/maphash"

// IDSet is a set of deduplication keys (IDKey): what ingest checks every
// row's eventID against. It is an open-addressing table with linear
// probing, at most three-quarters full, whose slots are the keys
// themselves: an insert hashes once and compares keys in adjacent slots,
// four to a cache line, where a Go map of [16]byte also reads its control
// bytes and copies the key through its group (BenchmarkIDSet). The
// hash is maphash's (AES-based on amd64 and arm64) under a random seed, so
// eventIDs chosen to collide in the table cannot be written in advance.
type IDSet struct {
	slots [][16]byte // the zero key marks an empty slot
	zero  bool       // the zero key is in the set
	n     int
	seed  maphash.Seed
}

// NewIDSet returns an empty set with room for about hint keys.
func NewIDSet(hint int) *IDSet {
	s := &IDSet{seed: maphash.MakeSeed()}
	s.slots = make([][16]byte, tableSize(hint))
	return s
}

// tableSize is the smallest power of two, at least 16, that holds n keys
// at most three-quarters full.
func tableSize(n int) int {
	size := 16
	for size*3/4 < n {
		size *= 2
	}
	return size
}

// Len is how many keys the set holds.
func (s *IDSet) Len() int { return s.n }

// Add inserts k and reports whether it was new.
func (s *IDSet) Add(k [16]byte) bool {
	if k == ([16]byte{}) {
		if s.zero {
			return false
		}
		s.zero = true
		s.n++
		return true
	}
	if (s.n+1)*4 > len(s.slots)*3 {
		s.grow()
	}
	if !s.insert(k) {
		return false
	}
	s.n++
	return true
}

// insert puts a non-zero k in the table, which has a free slot, unless it
// is there already.
func (s *IDSet) insert(k [16]byte) bool {
	mask := uint64(len(s.slots) - 1)
	for i := maphash.Comparable(s.seed, k) & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case k:
			return false
		case [16]byte{}:
			s.slots[i] = k
			return true
		}
	}
}

func (s *IDSet) grow() {
	old := s.slots
	s.slots = make([][16]byte, len(old)*2)
	for _, k := range old {
		if k != ([16]byte{}) {
			s.insert(k)
		}
	}
}
