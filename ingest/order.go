package ingest

import (
	"cmp"
	"math/bits"
	"slices"
	"strings"
)

// rowKeys is what a partition's rows are sorted by: principal_arn, then
// event_time, then their order in the batch (so ties keep it, as a stable
// sort would).
type rowKeys interface {
	PrincipalARN(i int) string
	EventTime(i int) int64
}

// sortRows sorts the row indexes idx by their keys. A partition holds few
// principals and one day of times, so each row's three keys usually pack
// into one uint64 (the principal's rank among the partition's principals,
// the time since the partition's earliest, the index), and a radix sort
// orders those integers without comparing, let alone calling back for
// strings. When they do not fit, it compares the keys themselves. scratch
// is memory to reuse; the memory to reuse next time is returned.
func sortRows(idx []int32, k rowKeys, scratch []uint64) []uint64 {
	if len(idx) < 2 {
		return scratch
	}
	// Each distinct principal gets an id in order of first sight (one map
	// lookup a row); ids become ranks once the names are sorted.
	ids := make(map[string]uint32)
	var names []string
	scratch = slices.Grow(scratch[:0], 2*len(idx))[:2*len(idx)]
	keys, tmp := scratch[:len(idx)], scratch[len(idx):]
	lo, hi := k.EventTime(int(idx[0])), k.EventTime(int(idx[0]))
	maxIdx := int32(0)
	for j, i := range idx {
		p := k.PrincipalARN(int(i))
		id, ok := ids[p]
		if !ok {
			id = uint32(len(names))
			ids[p] = id
			names = append(names, p)
		}
		keys[j] = uint64(id)
		t := k.EventTime(int(i))
		lo, hi = min(lo, t), max(hi, t)
		maxIdx = max(maxIdx, i)
	}
	rb := bits.Len(uint(len(names)))
	tb := bits.Len64(uint64(hi - lo))
	ib := bits.Len32(uint32(maxIdx))
	if hi-lo < 0 || rb+tb+ib > 64 {
		sortRowsByKeys(idx, k)
		return scratch
	}
	order := make([]uint32, len(names)) // id → rank
	byName := make([]uint32, len(names))
	for id := range byName {
		byName[id] = uint32(id)
	}
	slices.SortFunc(byName, func(a, b uint32) int { return strings.Compare(names[a], names[b]) })
	for r, id := range byName {
		order[id] = uint32(r)
	}
	for j, i := range idx {
		t := uint64(k.EventTime(int(i)) - lo)
		keys[j] = uint64(order[keys[j]])<<(tb+ib) | t<<ib | uint64(i)
	}
	keys = radixSort(keys, tmp, rb+tb+ib)
	mask := uint64(1)<<ib - 1
	for j, key := range keys {
		idx[j] = int32(key & mask)
	}
	return scratch
}

// radixSort sorts keys, whose set bits all lie below bit width, by their
// low radixBits-bit digits, least significant first (tmp, as long as keys,
// is the other buffer), and returns whichever of the two holds the result.
// Short inputs go to slices.Sort, where the counting would cost more than
// the comparisons.
func radixSort(keys, tmp []uint64, width int) []uint64 {
	if len(keys) < 256 {
		slices.Sort(keys)
		return keys
	}
	var count [1 << radixBits]int
	for shift := 0; shift < width; shift += radixBits {
		clear(count[:])
		for _, x := range keys {
			count[x>>shift&(1<<radixBits-1)]++
		}
		if count[keys[0]>>shift&(1<<radixBits-1)] == len(keys) {
			continue // every key has this digit: the order stands
		}
		sum := 0
		for d, c := range count {
			count[d] = sum
			sum += c
		}
		for _, x := range keys {
			d := x >> shift & (1<<radixBits - 1)
			tmp[count[d]] = x
			count[d]++
		}
		keys, tmp = tmp, keys
	}
	return keys
}

// radixBits is the radix sort's digit: 2,048 counters (16 KiB) stay in the
// first-level cache, and a key of the usual 45–55 bits takes five passes.
const radixBits = 11

// sortRowsByKeys is sortRows comparing the keys themselves.
func sortRowsByKeys(idx []int32, k rowKeys) {
	slices.SortFunc(idx, func(x, y int32) int {
		if c := strings.Compare(k.PrincipalARN(int(x)), k.PrincipalARN(int(y))); c != 0 {
			return c
		}
		if c := cmp.Compare(k.EventTime(int(x)), k.EventTime(int(y))); c != 0 {
			return c
		}
		return cmp.Compare(x, y)
	})
}
