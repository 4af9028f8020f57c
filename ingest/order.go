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
// the time since the partition's earliest, the index) and the sort
// compares integers instead of calling back for strings. When they do not
// fit, it compares the keys themselves.
func sortRows(idx []int32, k rowKeys, scratch []uint64) []uint64 {
	if len(idx) < 2 {
		return scratch
	}
	ranks := make(map[string]uint64)
	lo, hi := k.EventTime(int(idx[0])), k.EventTime(int(idx[0]))
	maxIdx := int32(0)
	for _, i := range idx {
		ranks[k.PrincipalARN(int(i))] = 0
		t := k.EventTime(int(i))
		lo, hi = min(lo, t), max(hi, t)
		maxIdx = max(maxIdx, i)
	}
	rb := bits.Len(uint(len(ranks)))
	tb := bits.Len64(uint64(hi - lo))
	ib := bits.Len32(uint32(maxIdx))
	if hi-lo < 0 || rb+tb+ib > 64 {
		sortRowsByKeys(idx, k)
		return scratch
	}
	names := make([]string, 0, len(ranks))
	for p := range ranks {
		names = append(names, p)
	}
	slices.Sort(names)
	for r, p := range names {
		ranks[p] = uint64(r)
	}
	keys := scratch[:0]
	for _, i := range idx {
		t := uint64(k.EventTime(int(i)) - lo)
		keys = append(keys, ranks[k.PrincipalARN(int(i))]<<(tb+ib)|t<<ib|uint64(i))
	}
	slices.Sort(keys)
	mask := uint64(1)<<ib - 1
	for j, key := range keys {
		idx[j] = int32(key & mask)
	}
	return keys
}

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
