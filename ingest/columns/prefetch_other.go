//go:build !amd64

package columns

import "unsafe"

// prefetchRefs does nothing where iamlens has no prefetch instruction.
func prefetchRefs(data *byte, refs *ref, n int) {}

// prefetchRefsSum returns what the amd64 assembly does (prefetchSum).
func prefetchRefsSum(data *byte, refs *ref, n int) uint64 {
	if n <= 0 {
		return 0
	}
	return prefetchSum(unsafe.Slice(refs, n))
}
